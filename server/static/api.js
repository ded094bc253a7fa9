/* Calls to the API on the same origin, its errors, the API-key prompt, small helpers. */
import { $, KEY_STORE, el, i18nText, state, store, t } from './dom.js';
import { loadDocuments } from './filters.js';

export class ApiError extends Error {
  constructor(status, message) { super(message || `HTTP ${status}`); this.status = status; }
}

export async function api(path, { method = 'GET', json, signal, accept } = {}) {
  const headers = {};
  if (state.key) headers.Authorization = `Bearer ${state.key}`;
  if (accept) headers.Accept = accept;
  let body;
  if (json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
  let res;
  try {
    res = await fetch(path, { method, headers, body, signal, credentials: 'same-origin' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, '');
  }
  if (!res.ok) {
    let msg = '';
    try { const data = await res.json(); msg = typeof data.error === 'string' ? data.error : ''; } catch (_) { /* not JSON */ }
    if (res.status === 401) showAuth(!!state.key);
    throw new ApiError(res.status, msg);
  }
  return res;
}

export const getJSON = async (path, opts) => (await api(path, opts)).json();

export function errorText(err) {
  if (!err || err.name === 'AbortError') return '';
  const s = err.status;
  if (s === 401 || s === 403) return t('err_auth');
  if (s === 404) return t('err_missing');
  if (s === 429) return t('err_rate');
  if (s === 400 || s === 413 || s === 422) return t('err_invalid', { msg: err.message || s });
  if (s >= 500) return t('err_server');
  if (s === 0) return t('err_network');
  return err.message || t('err_server');
}

export function showAuth(wrong) {
  const box = $('#auth');
  box.hidden = false;
  const hint = $('.hint', box);
  i18nText(hint, wrong ? 'auth_wrong' : 'auth_hint');
  const input = $('#api-key');
  input.value = '';
  input.focus();
}

export function initAuth() {
  $('#auth-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const key = $('#api-key').value.trim();
    if (!key) return;
    state.key = key;
    store.set('sessionStorage', KEY_STORE, key);
    $('#auth').hidden = true;
    loadDocuments();
    const retry = state.retry;
    state.retry = null;
    if (retry) retry();
    else $('#question').focus();
  });
}

export const yearText = (y) => (y == null || y === '' ? t('no_year') : String(y));

export function toast(key, vars) {
  const box = $('#toast');
  i18nText(box, key, vars);
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 3200);
}

export function announce(text) {
  const live = $('#sr-status');
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 30);
}

export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(text); return true; }
  } catch (_) { /* fall through to the old way */ }
  const area = el('textarea', { class: 'visually-hidden', 'aria-hidden': 'true' });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch (_) { ok = false; }
  area.remove();
  return ok;
}

export const passageLink = (chunkId) => `${location.origin}${location.pathname}?passage=${encodeURIComponent(chunkId)}`;

export function snippet(text, n = 220) {
  const s = (text || '').replace(/\s+/g, ' ').trim();
  return s.length > n ? `${s.slice(0, n).replace(/\s+\S*$/, '')}…` : s;
}

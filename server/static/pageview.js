/* The passage's page of the original PDF, highlighted, above its text in the panel; tap to enlarge. */
import { api, errorText } from './api.js';
import { $, el, state, t } from './dom.js';

const WIDTH = 800; // fits the panel (460 px) and a phone (375 px) sharply at 2 device pixels per px
const LARGE = 1600;

function dataUrl(blob) {
  // A data: URL, since the page's Content-Security-Policy allows images only from 'self' and data:.
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/** One page image: its data URL, the PDF pages the passage spans, and the highlighted band (0–1). */
async function fetchPage(chunkId, { page = 0, width = WIDTH } = {}) {
  const qs = new URLSearchParams({ width: String(width) });
  if (page) qs.set('page', String(page));
  // Fetched (not a plain <img src>) so the API key travels with it and the headers can be read.
  const res = await api(`/api/passages/${encodeURIComponent(chunkId)}/page.png?${qs}`, { accept: 'image/png' });
  const pages = (res.headers.get('X-Passage-Pages') || '').split(',').map(Number).filter(Boolean);
  const [top, bottom] = (res.headers.get('X-Highlight') || 'none').split(',').map(Number);
  const band = Number.isFinite(top) && Number.isFinite(bottom) ? { top, bottom } : null;
  return { src: await dataUrl(await res.blob()), pages, band, page: page || pages[0] };
}

/** Scroll a frame so the highlighted band is in view: centred, or its top when it is taller. */
function scrollToBand(frame, img, band) {
  if (!band) return;
  const place = () => {
    const h = img.clientHeight;
    if (!h) return;
    const view = frame.clientHeight;
    const centre = ((band.top + band.bottom) / 2) * h - view / 2;
    frame.scrollTop = Math.max(0, Math.min(centre, band.top * h - 12));
  };
  if (img.complete && img.naturalHeight) place(); else img.addEventListener('load', place, { once: true });
}

function closeZoom() {
  const zoom = $('#page-zoom');
  if (!zoom) return;
  const opener = zoom._opener;
  zoom.remove();
  if (opener && opener.isConnected) opener.focus();
}

async function openZoom(chunkId, shot, alt, opener) {
  closeZoom();
  const img = el('img', { src: shot.src, alt, class: 'page-zoom-img' });
  const close = el('button', { type: 'button', class: 'btn btn-icon page-zoom-close', 'aria-label': t('page_zoom_close'),
    onclick: closeZoom, text: '×' });
  const zoom = el('div', { id: 'page-zoom', class: 'page-zoom', role: 'dialog', 'aria-modal': 'true',
    'aria-label': t('page_zoom_label', { page: shot.page }), onclick: (ev) => { if (ev.target === zoom) closeZoom(); } },
  close, img);
  zoom._opener = opener;
  img.addEventListener('click', closeZoom);
  document.body.append(zoom);
  close.focus();
  scrollToBand(zoom, img, shot.band);
  try {
    const large = await fetchPage(chunkId, { page: shot.page, width: LARGE });
    if (img.isConnected) { img.src = large.src; scrollToBand(zoom, img, shot.band); }
  } catch (_) { /* the smaller image stays */ }
}

function pageFrame(chunkId, shot, alt) {
  const img = el('img', { src: shot.src, alt, class: 'page-img', decoding: 'async' });
  const enlarge = el('button', { type: 'button', class: 'page-enlarge', title: t('page_zoom', { page: shot.page }),
    onclick: (ev) => openZoom(chunkId, shot, alt, ev.currentTarget) }, img);
  // The frame scrolls (a button cannot), so the highlight is in view without scrolling by hand.
  const frame = el('div', { class: 'page-frame', 'data-page': String(shot.page) }, enlarge);
  scrollToBand(frame, img, shot.band);
  return el('div', { class: 'page-shot' }, frame,
    el('p', { class: 'page-caption' }, el('span', { i18n: ['pdf_page_short', { page: shot.page }] }),
      shot.band ? null : el('span', { class: 'page-nomark', i18n: ['page_not_marked'] })));
}

function pdfLink(docId, page) {
  const href = `/api/documents/${encodeURIComponent(docId)}/file#page=${page}`;
  const link = el('a', { id: 'panel-pdf', class: 'btn btn-quiet', href, target: '_blank', rel: 'noopener',
    i18n: ['page_open_pdf', { page }] });
  link.addEventListener('click', async (ev) => {
    if (!state.key) return; // a plain link cannot carry the API key: fetch the file and open it from memory
    ev.preventDefault();
    const win = window.open('', '_blank');
    try {
      const res = await api(`/api/documents/${encodeURIComponent(docId)}/file`);
      const url = URL.createObjectURL(await res.blob());
      if (win) win.location.href = `${url}#page=${page}`; else location.href = `${url}#page=${page}`;
    } catch (err) {
      if (win) win.close();
      $('#panel-status').textContent = err.message || errorText(err);
    }
  });
  return link;
}

/** Clear the page area (a new passage is opening). */
export function clearPages() {
  const fig = $('#panel-pages');
  fig.replaceChildren();
  fig.hidden = true;
}

/**
 * Show the passage's page(s) in the panel, above its text. Documents without pages (404) show the
 * text alone, as before; a changed or moved file (409, 410) says so.
 */
export async function showPages(chunkId, { docId, alt, isCurrent }) {
  const fig = $('#panel-pages');
  try {
    const first = await fetchPage(chunkId);
    const shots = [first];
    for (const page of first.pages.slice(1)) shots.push(await fetchPage(chunkId, { page }));
    if (!isCurrent()) return;
    fig.replaceChildren(...shots.map((s) => pageFrame(chunkId, s, alt)), pdfLink(docId, first.page));
    fig.hidden = false;
  } catch (err) {
    if (!isCurrent()) return;
    if (err.status === 404 || err.name === 'AbortError') { clearPages(); return; }
    fig.replaceChildren(el('p', { class: 'hint page-problem', text: err.message || errorText(err) }));
    fig.hidden = false;
  }
}

export function initPages() {
  // Escape closes the enlarged page first, and only then the panel.
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && $('#page-zoom')) { ev.stopImmediatePropagation(); closeZoom(); }
  }, true);
}

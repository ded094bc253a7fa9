/* Page state, storage, element building and translation of the page. */
import { I18N } from './strings.js';

export const KEY_STORE = 'rodedraad.apiKey';
export const LANG_STORE = 'rodedraad.lang';
export const MAX_HISTORY = 20; // turns sent back (the API accepts 40)

export const store = {
  get(area, k) { try { return window[area].getItem(k); } catch (_) { return null; } },
  set(area, k, v) { try { if (v == null) window[area].removeItem(k); else window[area].setItem(k, v); } catch (_) { /* private mode */ } },
};

export const state = {
  lang: I18N[store.get('localStorage', LANG_STORE)] ? store.get('localStorage', LANG_STORE) : 'nl',
  key: store.get('sessionStorage', KEY_STORE) || '',
  history: [],
  docs: [],
  themes: null,
  themesFor: '',
  themeTitles: {},
  busy: false,
  controller: null,
  retry: null,
  panelOpener: null,
  panelChunk: null,
};

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

export function t(key, vars) {
  const table = I18N[state.lang] || I18N.nl;
  let s = key in table ? table[key] : (I18N.nl[key] ?? key);
  if (typeof s === 'string' && vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

/** Element builder: el('p', {class: 'x', text: 'y'}, child...). Never uses innerHTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'text') node.textContent = v;
    else if (k === 'class') node.className = v;
    else if (k === 'i18n') i18nText(node, v[0], v[1]);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'hidden') node.hidden = !!v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c != null) node.append(c);
  return node;
}

/** Translated text (or attribute) that re-renders when the language changes. */
export function i18nText(node, key, vars, attr) {
  const name = attr ? `data-i18n-${attr}` : 'data-i18n';
  node.setAttribute(name, key);
  if (vars) node.setAttribute(`${name}-vars`, JSON.stringify(vars));
  else node.removeAttribute(`${name}-vars`);
  const value = t(key, vars);
  if (attr) node.setAttribute(attr, value); else node.textContent = value;
  return node;
}

export function applyI18n(root = document) {
  const vars = (node, name) => { const v = node.getAttribute(`${name}-vars`); return v ? JSON.parse(v) : undefined; };
  for (const node of $$('[data-i18n]', root)) node.textContent = t(node.dataset.i18n, vars(node, 'data-i18n'));
  for (const attr of ['placeholder', 'aria-label', 'title']) {
    const name = `data-i18n-${attr}`;
    for (const node of $$(`[${name}]`, root)) node.setAttribute(attr, t(node.getAttribute(name), vars(node, name)));
  }
}

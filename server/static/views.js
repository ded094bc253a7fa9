/* The three views (tabs): questions, precedents and themes with the session pack. */
import { api, errorText, getJSON, snippet, yearText } from './api.js';
import { ask } from './chat.js';
import { $, $$, el, i18nText, state, t } from './dom.js';
import { webUrl } from './doctext.js';
import { currentFilters } from './filters.js';
import { openPassage } from './panel.js';

export const VIEWS = ['chat', 'precedents', 'themes'];
export const HASHES = { chat: '', precedents: '#precedenten', themes: '#themas' };

export function switchView(view, focusTab = false) {
  if (!VIEWS.includes(view)) view = 'chat';
  for (const v of VIEWS) {
    const tab = $(`#tab-${v}`);
    const on = v === view;
    tab.setAttribute('aria-selected', on ? 'true' : 'false');
    tab.tabIndex = on ? 0 : -1;
    $(`#view-${v}`).hidden = !on;
    if (on && focusTab) tab.focus();
  }
  if (location.hash !== HASHES[view]) history.replaceState(null, '', `${location.pathname}${location.search}${HASHES[view]}`);
  if (view === 'themes' && (state.themes === null || state.themesFor !== yearParams().toString())) loadThemes();
}

export function initTabs() {
  for (const tab of $$('[role=tab]')) {
    tab.addEventListener('click', () => switchView(tab.dataset.view));
    tab.addEventListener('keydown', (ev) => {
      const i = VIEWS.indexOf(tab.dataset.view);
      let next = null;
      if (ev.key === 'ArrowRight') next = VIEWS[(i + 1) % VIEWS.length];
      else if (ev.key === 'ArrowLeft') next = VIEWS[(i + VIEWS.length - 1) % VIEWS.length];
      else if (ev.key === 'Home') next = VIEWS[0];
      else if (ev.key === 'End') next = VIEWS[VIEWS.length - 1];
      if (next) { ev.preventDefault(); switchView(next, true); }
    });
  }
}

/** Passages as buttons that open the side panel, showing the quoted sentence when there is one;
 * `withDoc` adds the report (for lists across reports). */
export function passageButtons(passages, limit = 3, withDoc = false) {
  return el('ul', { class: 'passage-list' }, (passages || []).slice(0, limit).map((p) => {
    const about = (p.about || []).map((a) => `${a.title} (${yearText(a.year)})`).join('; ');
    return el('li', {},
      el('button', {
        type: 'button', class: 'passage-item', 'data-chunk': p.chunk_id,
        onclick: (ev) => openPassage(p.chunk_id, { quote: p.quote || '', opener: ev.currentTarget }),
      },
      el('span', { class: 'passage-page', i18n: ['page_short', { page: p.page_label || p.page }] }),
      el('span', { class: 'passage-body' },
        withDoc && p.title ? el('span', { class: 'passage-doc', text: `${p.title} (${yearText(p.year)})` }) : null,
        about ? el('span', { class: 'passage-doc', i18n: ['about', { reports: about }] }) : null,
        el('span', { class: 'passage-snippet', text: snippet(p.quote || p.text, 220) }))));
  }));
}

/** A value quoted from a report (period, number of cases): the words, and a link to where they stand. */
export function factValue(fact) {
  if (fact == null) return null;
  if (typeof fact !== 'object') return el('dd', { text: String(fact) });
  return el('dd', {},
    el('button', {
      type: 'button', class: 'linklike fact', text: fact.match || snippet(fact.text, 80),
      onclick: (ev) => openPassage(fact.chunk_id, { quote: fact.text, opener: ev.currentTarget }),
    }),
    fact.page_label ? el('span', { class: 'source-page', i18n: ['page_short', { page: fact.page_label }] }) : null);
}

export const docTitle = (id) => (state.docs.find((d) => d.doc_id === id) || {}).title || id;

export function yearParams(params = new URLSearchParams()) {
  const f = currentFilters();
  if (f && f.year_from) params.set('year_from', f.year_from);
  if (f && f.year_to) params.set('year_to', f.year_to);
  return params;
}

export function precedentCard(d) {
  const mentioned = d.kind && d.kind !== 'document';
  const hosts = (d.mentioned_in_docs && d.mentioned_in_docs.length ? d.mentioned_in_docs : [d.mentioned_in]).filter(Boolean);
  const period = factValue(d.period);
  const cases = factValue(d.cases);
  return el('article', { class: `card precedent${mentioned ? ' precedent-mentioned' : ''}`, 'data-doc': d.doc_id },
    el('div', { class: 'card-head' },
      el('h2', { class: 'card-title', text: d.title }),
      mentioned ? el('span', { class: 'badge badge-quiet', i18n: ['kind_mentioned'] }) : null),
    el('p', { class: 'card-meta', text: [yearText(d.year), d.publisher, d.doc_type].filter(Boolean).join(' · ') }),
    mentioned && hosts.length ? el('p', { class: 'card-note', i18n: ['mentioned_in', { docs: hosts.map(docTitle).join('; ') }] }) : null,
    (period || cases) ? el('dl', { class: 'card-facts' },
      period ? el('div', {}, el('dt', { i18n: ['period'] }), period) : null,
      cases ? el('div', {}, el('dt', { i18n: ['cases'] }), cases) : null) : null,
    passageButtons(d.passages),
    webUrl(d.url) ? el('a', { class: 'card-link', href: webUrl(d.url), target: '_blank', rel: 'noopener noreferrer', i18n: ['original'] }) : null);
}

export async function searchPrecedents(q) {
  const out = $('#precedents-results');
  q = (q || '').trim();
  if (!q) return;
  const params = yearParams(new URLSearchParams({ q }));
  out.setAttribute('aria-busy', 'true');
  out.replaceChildren(el('p', { class: 'hint', i18n: ['searching'] }));
  try {
    const data = await getJSON(`/api/precedents?${params}`);
    const items = data.precedents || [];
    if (!items.length) { out.replaceChildren(el('p', { class: 'empty', i18n: ['precedents_empty'] })); return; }
    out.replaceChildren(el('p', { class: 'hint', i18n: ['precedents_count', { n: items.length }] }), ...items.map(precedentCard));
  } catch (err) {
    if (err.status === 401) state.retry = () => searchPrecedents(q);
    out.replaceChildren(el('p', { class: err.status === 404 ? 'empty' : 'error', text: err.status === 404 ? t('feature_missing') : errorText(err) }));
  } finally {
    out.setAttribute('aria-busy', 'false');
  }
}

export function initPrecedents() {
  $('#precedents-form').addEventListener('submit', (ev) => { ev.preventDefault(); searchPrecedents($('#precedents-q').value); });
}

export async function loadThemes() {
  const list = $('#themes-list');
  const params = yearParams();
  state.themesFor = params.toString();
  list.replaceChildren(el('p', { class: 'hint', i18n: ['loading'] }));
  try {
    const themes = await getJSON(`/api/themes${state.themesFor ? `?${state.themesFor}` : ''}`);
    state.themes = Array.isArray(themes) ? themes : (themes.themes || []);
    for (const th of state.themes) state.themeTitles[th.id] = th.title;
    if (!state.themes.length) { list.replaceChildren(el('p', { class: 'empty', i18n: ['themes_empty'] })); return; }
    list.replaceChildren(...state.themes.map((th) => el('button', {
      type: 'button', class: 'card theme-card', 'data-theme': th.id, onclick: () => openTheme(th.id),
    },
    el('span', { class: 'card-title', text: th.title }),
    th.description ? el('span', { class: 'card-text', text: th.description }) : null,
    el('span', { class: 'card-foot' },
      th.count != null ? el('span', { class: 'badge', i18n: ['theme_count', { n: th.count }] }) : null,
      th.documents && th.documents.length ? el('span', { class: 'hint', i18n: ['theme_docs', { n: th.documents.length }] }) : null))));
  } catch (err) {
    state.themes = null;
    if (err.status === 401) state.retry = () => loadThemes();
    list.replaceChildren(el('p', { class: err.status === 404 ? 'empty' : 'error', text: err.status === 404 ? t('feature_missing') : errorText(err) }));
  }
}

export async function openTheme(id) {
  const detail = $('#theme-detail');
  $('#themes-list').hidden = true;
  const back = el('button', {
    type: 'button', class: 'btn btn-quiet btn-small', i18n: ['back'],
    onclick: () => { detail.replaceChildren(); $('#themes-list').hidden = false; $(`[data-theme="${CSS.escape(id)}"]`)?.focus(); },
  });
  detail.replaceChildren(back, el('p', { class: 'hint', i18n: ['loading'] }));
  const params = yearParams();
  try {
    const data = await getJSON(`/api/themes/${encodeURIComponent(id)}${params.toString() ? `?${params}` : ''}`);
    const th = data.theme || { id, title: state.themeTitles[id] || id };
    const packOut = el('p', { class: 'pack-status', role: 'status' });
    const years = (data.by_year || []).filter((y) => y.count);
    const examples = th.examples || [];
    detail.replaceChildren(back,
      el('h2', { class: 'theme-title', text: th.title, tabindex: '-1' }),
      th.description ? el('p', { class: 'lead', text: th.description }) : null,
      years.length ? el('p', { class: 'hint theme-years' },
        el('span', { i18n: ['by_year'] }), ' ',
        years.map((y) => `${yearText(y.year)}: ${y.count}`).join(' · ')) : null,
      el('div', { class: 'theme-actions' },
        el('button', { type: 'button', class: 'btn btn-primary pack-btn', i18n: ['pack'], onclick: () => openPack(id, packOut) })),
      packOut,
      examples.length ? el('section', { class: 'theme-examples' },
        el('h3', { class: 'subhead', i18n: ['ask_about'] }),
        el('ul', { class: 'examples' }, examples.map((q) => el('li', {},
          el('button', { type: 'button', class: 'example', text: q, onclick: () => { switchView('chat'); ask(q); } }))))) : null,
      el('h3', { class: 'subhead', i18n: ['theme_passages'] }),
      (data.passages || []).length ? passageButtons(data.passages, 60, true) : el('p', { class: 'empty', i18n: ['theme_none'] }));
    $('.theme-title', detail).focus();
  } catch (err) {
    if (err.status === 401) state.retry = () => openTheme(id);
    detail.replaceChildren(back, el('p', { class: err.status === 404 ? 'empty' : 'error', text: err.status === 404 ? t('feature_missing') : errorText(err) }));
  }
}

/** Fetch the pack first (so a missing feature or key gives a message), then open it. */
export async function openPack(id, out) {
  const url = `/api/pack?${yearParams(new URLSearchParams({ theme: id, format: 'html' }))}`;
  i18nText(out, 'pack_opening');
  out.className = 'pack-status hint';
  try {
    const res = await api(url, { accept: 'text/html' });
    if (state.key) {
      // The key cannot ride along on a plain link: hand over the fetched file instead.
      const blob = new Blob([await res.text()], { type: 'text/html' });
      const a = el('a', { href: URL.createObjectURL(blob), download: `sessiepakket-${id}.html`, i18n: ['pack_download'] });
      out.replaceChildren(el('span', { i18n: ['pack_ready'] }), ' ', a);
      a.click();
    } else {
      const a = el('a', { href: url, target: '_blank', rel: 'noopener', i18n: ['pack_link'] });
      out.replaceChildren(el('span', { i18n: ['pack_ready'] }), ' ', a);
      window.open(url, '_blank', 'noopener');
    }
  } catch (err) {
    if (err.status === 401) state.retry = () => openPack(id, out);
    out.className = `pack-status ${err.status === 404 ? 'empty' : 'error'}`;
    out.textContent = err.status === 404 ? t('feature_missing') : errorText(err);
  }
}

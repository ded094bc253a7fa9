/* The side panel that shows a cited passage with the text around it. */
import { api, copyText, errorText, getJSON, passageLink, toast, yearText } from './api.js';
import { $, el, i18nText, state, t } from './dom.js';
import { webUrl } from './doctext.js';
import { clearPages, initPages, showPages } from './pageview.js';
import { ocrLabel } from './chat.js';
import { openTheme, switchView } from './views.js';

export function markQuote(block, text, quote) {
  const norm = (s) => s.replace(/\s+/g, ' ');
  const body = norm(text || '');
  const q = norm(quote || '').trim();
  const at = q ? body.indexOf(q) : -1;
  if (at < 0) { block.replaceChildren(body); return; }
  block.replaceChildren(body.slice(0, at), el('mark', { text: q }), body.slice(at + q.length));
}

/** The text just before (its end) and after (its start) the passage, so the passage stays in view. */
export function contextBlock(key, passages, tail) {
  if (!passages || !passages.length) return [];
  const joined = passages.map((p) => p.text || '').join(' ').replace(/\s+/g, ' ').trim();
  if (!joined) return [];
  const n = 320;
  let text = joined;
  if (joined.length > n) {
    text = tail ? `…${joined.slice(-n).replace(/^\S*\s/, '')}` : `${joined.slice(0, n).replace(/\s\S*$/, '')}…`;
  }
  const page = (tail ? passages[passages.length - 1] : passages[0]).page_label;
  return [el('p', { class: 'context-label' }, el('span', { i18n: [key] }),
    page ? el('span', { class: 'context-page', i18n: ['page_short', { page }] }) : null),
  el('p', { class: 'context-text', text })];
}

export async function openPassage(chunkId, { quote = '', opener = null } = {}) {
  if (!chunkId) return;
  const panel = $('#panel');
  state.panelOpener = opener || document.activeElement;
  state.panelChunk = chunkId;
  panel.hidden = false;
  panel.dataset.chunk = chunkId;
  document.body.classList.add('panel-open');
  $('#scrim').hidden = false;
  panel.setAttribute('aria-busy', 'true');
  i18nText($('#panel-title'), 'loading');
  for (const id of ['#panel-meta', '#panel-page', '#panel-pdf-page', '#panel-section', '#panel-status']) $(id).textContent = '';
  for (const id of ['#panel-before', '#panel-after', '#panel-text']) $(id).replaceChildren();
  $('#panel-link').hidden = true;
  $('#panel-themes')?.remove();
  clearPages();
  $('#panel-title').focus();
  try {
    const data = await getJSON(`/api/passages/${encodeURIComponent(chunkId)}`);
    if (state.panelChunk !== chunkId) return;
    const p = data.passage;
    const title = $('#panel-title');
    title.removeAttribute('data-i18n');
    title.textContent = p.title;
    $('#panel-meta').textContent = [p.publisher, yearText(p.year), p.doc_type].filter(Boolean).join(' · ');
    $('#panel-page').replaceChildren(p.page_label || String(p.page), ...(p.ocr ? [ocrLabel(p.ocr_confidence)] : []));
    $('#panel-pdf-page').textContent = String(p.page);
    $('#panel-section').textContent = p.section || '';
    $('#panel-section-row').hidden = !p.section;
    markQuote($('#panel-text'), p.text, quote);
    showPages(chunkId, { docId: p.doc_id, alt: quote || p.text, isCurrent: () => state.panelChunk === chunkId });
    $('#panel-before').replaceChildren(...contextBlock('context_before', data.before, true));
    $('#panel-after').replaceChildren(...contextBlock('context_after', data.after, false));
    const link = $('#panel-link');
    if (webUrl(p.url)) { link.href = webUrl(p.url); link.hidden = false; } else { link.removeAttribute('href'); link.hidden = true; }
    if (p.themes && p.themes.length && Object.keys(state.themeTitles).length) {
      const tags = p.themes.filter((id) => state.themeTitles[id]).map((id) => el('li', {},
        el('button', { type: 'button', class: 'tag', text: state.themeTitles[id], onclick: () => { closePanel(false); switchView('themes'); openTheme(id); } })));
      if (tags.length) $('#panel-text').after(el('ul', { id: 'panel-themes', class: 'tags', 'aria-label': t('themes_title') }, tags));
    }
  } catch (err) {
    if (state.panelChunk !== chunkId) return;
    if (err.status === 401) state.retry = () => openPassage(chunkId, { quote, opener });
    i18nText($('#panel-title'), 'passage');
    $('#panel-status').textContent = err.status === 404 ? t('passage_missing') : errorText(err);
  } finally {
    panel.setAttribute('aria-busy', 'false');
  }
}

export function closePanel(restoreFocus = true) {
  const panel = $('#panel');
  if (panel.hidden) return;
  panel.hidden = true;
  $('#scrim').hidden = true;
  document.body.classList.remove('panel-open');
  state.panelChunk = null;
  const params = new URLSearchParams(location.search);
  if (params.has('passage')) {
    params.delete('passage');
    const qs = params.toString();
    history.replaceState(null, '', `${location.pathname}${qs ? `?${qs}` : ''}${location.hash}`);
  }
  if (restoreFocus && state.panelOpener && state.panelOpener.isConnected) state.panelOpener.focus();
  state.panelOpener = null;
}

export function initPanel() {
  initPages();
  $('#panel-close').addEventListener('click', () => closePanel());
  $('#scrim').addEventListener('click', () => closePanel());
  document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape' && !$('#panel').hidden) closePanel(); });
  $('#panel-copy-link').addEventListener('click', async () => {
    const id = $('#panel').dataset.chunk;
    if (id) toast((await copyText(passageLink(id))) ? 'link_copied' : 'copy_failed');
  });
}

/* The report list and the year and report filters. */
import { errorText, getJSON, yearText } from './api.js';
import { $, $$, el, state, t } from './dom.js';

export async function loadDocuments() {
  const list = $('#doc-list');
  try {
    state.docs = await getJSON('/api/documents');
  } catch (err) {
    list.replaceChildren(el('p', { class: 'hint error', text: errorText(err) }));
    return;
  }
  if (!state.docs.length) { list.replaceChildren(el('p', { class: 'hint', i18n: ['docs_none'] })); return; }
  list.replaceChildren(...state.docs.map((d) => {
    const id = `doc-${d.doc_id}`;
    return el('label', { class: 'doc-option', for: id },
      el('input', { type: 'checkbox', id, value: d.doc_id, name: 'doc', onchange: updateFilterSummary }),
      el('span', { class: 'doc-option-text' },
        el('span', { class: 'doc-option-title', text: d.title }),
        el('span', { class: 'doc-option-meta', text: [yearText(d.year), d.publisher].filter(Boolean).join(' · ') })));
  }));
  updateFilterSummary();
}

export function yearValue(input) {
  const v = parseInt(input.value, 10);
  const ok = !input.value || (Number.isInteger(v) && v >= 1900 && v <= 2100);
  input.setAttribute('aria-invalid', ok ? 'false' : 'true');
  return ok && input.value ? v : null;
}

export function currentFilters() {
  const f = {};
  let from = yearValue($('#year-from'));
  let to = yearValue($('#year-to'));
  if (from && to && from > to) [from, to] = [to, from];
  if (from) f.year_from = from;
  if (to) f.year_to = to;
  const ids = $$('#doc-list input[name=doc]:checked').map((i) => i.value);
  if (ids.length) f.doc_ids = ids;
  return Object.keys(f).length ? f : null;
}

export function updateFilterSummary() {
  const f = currentFilters();
  const parts = [];
  if (f && (f.year_from || f.year_to)) parts.push(t('filter_years', { from: f.year_from || '…', to: f.year_to || '…' }));
  if (f && f.doc_ids) parts.push(t('filter_reports', { n: f.doc_ids.length }));
  $('#filter-summary').textContent = parts.length ? `(${parts.join(', ')})` : `(${t('filter_off')})`;
  $('#filters').classList.toggle('active', parts.length > 0);
}

export function initFilters() {
  for (const id of ['#year-from', '#year-to']) $(id).addEventListener('input', updateFilterSummary);
  $('#filters-clear').addEventListener('click', () => {
    $('#year-from').value = '';
    $('#year-to').value = '';
    for (const box of $$('#doc-list input[name=doc]')) box.checked = false;
    updateFilterSummary();
  });
}

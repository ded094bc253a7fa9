/* Rode Draad web chat: plain JS, no build step, nothing loaded from elsewhere.
 * Talks to the API on the same origin: /api/chat/stream (SSE over fetch), /api/documents,
 * /api/passages/{id}, /api/precedents, /api/themes, /api/pack. */
(() => {
  'use strict';

  // ---------------------------------------------------------------- strings (nl default, en)
  const I18N = {
    nl: {
      skip: 'Naar de vraag',
      views_label: 'Weergaven',
      tab_chat: 'Vragen',
      tab_precedents: 'Precedenten',
      tab_themes: "Thema's",
      lang_toggle: 'English',
      lang_toggle_label: 'Switch to English',
      independent: 'Een onafhankelijke assistent over openbare calamiteitenrapportages; niet van de Inspectie Gezondheidszorg en Jeugd. Controleer altijd de bron.',
      auth_label: 'Deze server vraagt een API-sleutel.',
      auth_save: 'Sleutel gebruiken',
      auth_hint: 'De sleutel blijft alleen in dit tabblad bewaard.',
      auth_wrong: 'Deze sleutel werd niet geaccepteerd. Probeer het opnieuw.',
      filters: 'Filters',
      years: 'Jaren',
      year_from: 'van',
      year_to: 'tot en met',
      reports: 'Rapporten',
      loading: 'Laden…',
      filters_clear: 'Filters wissen',
      filter_years: 'jaren {from}–{to}',
      filter_reports: '{n} rapport(en)',
      filter_off: 'alle rapporten',
      docs_none: 'Er staan nog geen rapporten in de index.',
      conversation: 'Gesprek',
      welcome_title: 'Vraag het de rapporten',
      welcome_text: 'Stel een vraag over calamiteiten in de jeugdzorg. Elk antwoord verwijst naar het rapport en de gedrukte pagina; klik op een nummer om de passage te lezen.',
      examples_label: 'Voorbeeldvragen',
      examples: ['Wat is de officiële definitie van een calamiteit?', 'Wat ging er mis bij opschalen?',
        'Hoe kunnen organisaties leren van calamiteiten elders?'],
      question_label: 'Uw vraag',
      question_placeholder: 'Stel een vraag over de rapporten…',
      new_chat: 'Nieuw gesprek',
      new_chat_done: 'Nieuw gesprek gestart.',
      ask: 'Vraag',
      composer_hint: 'Enter verstuurt, Shift+Enter voor een nieuwe regel. Deel geen gegevens over cliënten.',
      you: 'U',
      assistant: 'Rode Draad',
      thinking: 'De rapporten worden doorzocht…',
      answer_ready: 'Antwoord klaar.',
      sources: 'Bronnen',
      cite_label: 'Bron {n}: {title}, pagina {page}',
      cite_pending: 'Bron {n}',
      understood_as: 'Opgevat als: “{q}”',
      copy_md: 'Kopieer als Markdown',
      copied: 'Antwoord met bronnen gekopieerd.',
      copy_failed: 'Kopiëren lukte niet; selecteer de tekst handmatig.',
      abstain_title: 'Geen antwoord in de rapporten',
      abstain_text: 'De rapporten geven hier geen onderbouwd antwoord op. Deze rapporten komen het dichtst in de buurt; misschien helpt een andere formulering.',
      abstain_none: 'Er zijn ook geen rapporten gevonden die in de buurt komen.',
      nearest: 'Dichtstbijzijnde rapporten',
      page_short: 'p. {page}',
      pdf_page_short: 'pdf-pagina {page}',
      no_year: 'z.j.',
      err_auth: 'Deze server vraagt een geldige API-sleutel.',
      err_missing: 'Niet gevonden.',
      err_rate: 'Te veel verzoeken; wacht even en probeer het opnieuw.',
      err_invalid: 'De vraag kon niet worden verwerkt: {msg}',
      err_server: 'Er ging iets mis op de server. Probeer het later opnieuw.',
      err_network: 'Geen verbinding met de server.',
      err_stream: 'Het antwoord werd onderbroken. Probeer het opnieuw.',
      feature_missing: 'Deze functie is op deze server (nog) niet beschikbaar.',
      precedents_title: 'Precedenten',
      precedents_text: 'Zoek rapporten over vergelijkbare situaties; één resultaat per rapport, met de passages die erop lijken.',
      precedents_label: 'Beschrijf de situatie',
      precedents_placeholder: 'Bijv. pleeggezin, screening van pleegouders',
      precedents_empty: 'Geen vergelijkbare rapporten gevonden.',
      precedents_count: '{n} rapport(en) gevonden.',
      search: 'Zoeken',
      searching: 'Zoeken…',
      filters_apply: "De jaarfilters uit Vragen gelden ook hier en bij Thema's.",
      period: 'Periode',
      cases: 'Casussen',
      themes_title: "Thema's",
      themes_text: 'Rode draden die in meerdere rapporten terugkomen. Kies een thema om de passages te zien of een sessiepakket te openen.',
      themes_empty: "Er zijn geen thema's gevonden.",
      theme_count: '{n} passages',
      theme_docs: 'in {n} rapport(en)',
      theme_passages: 'Passages',
      theme_none: 'Geen passages binnen deze filters.',
      by_year: 'Per jaar:',
      ask_about: 'Vraag hierover',
      about: 'over: {reports}',
      kind_mentioned: 'Vermeld rapport',
      mentioned_in: 'Niet in de index; genoemd in: {docs}',
      back: "Terug naar alle thema's",
      pack: 'Sessiepakket openen',
      pack_opening: 'Sessiepakket wordt gemaakt…',
      pack_ready: 'Het sessiepakket staat klaar:',
      pack_link: 'open het sessiepakket',
      pack_download: 'download het sessiepakket',
      footer: 'Rode Draad is open source. Antwoorden komen uit gepubliceerde rapporten; het is geen advies over een individuele casus.',
      passage: 'Passage',
      close: 'Sluiten',
      printed_page: 'Pagina',
      pdf_page: 'PDF-pagina',
      section: 'Hoofdstuk',
      original: 'Originele publicatie',
      copy_link: 'Link kopiëren',
      link_copied: 'Link naar de passage gekopieerd.',
      context_before: 'Tekst ervoor',
      context_after: 'Tekst erna',
      passage_missing: 'Deze passage staat niet (meer) in de index.',
      open_passage: 'Open passage',
      md_question: 'Vraag',
      md_sources: 'Bronnen',
      md_nearest: 'Dichtstbijzijnde rapporten',
      md_footer: 'Rode Draad: onafhankelijke assistent over openbare calamiteitenrapportages (niet de inspectie).',
    },
    en: {
      skip: 'Skip to the question',
      views_label: 'Views',
      tab_chat: 'Ask',
      tab_precedents: 'Precedents',
      tab_themes: 'Themes',
      lang_toggle: 'Nederlands',
      lang_toggle_label: 'Schakel naar Nederlands',
      independent: 'An independent assistant over public calamity reports; not the Dutch Health and Youth Care Inspectorate. Always check the source.',
      auth_label: 'This server needs an API key.',
      auth_save: 'Use key',
      auth_hint: 'The key is kept in this tab only.',
      auth_wrong: 'That key was not accepted. Please try again.',
      filters: 'Filters',
      years: 'Years',
      year_from: 'from',
      year_to: 'to',
      reports: 'Reports',
      loading: 'Loading…',
      filters_clear: 'Clear filters',
      filter_years: 'years {from}–{to}',
      filter_reports: '{n} report(s)',
      filter_off: 'all reports',
      docs_none: 'The index holds no reports yet.',
      conversation: 'Conversation',
      welcome_title: 'Ask the reports',
      welcome_text: 'Ask a question about calamities in Dutch youth care. Every answer cites the report and the printed page; click a number to read the passage.',
      examples_label: 'Example questions',
      examples: ['What is the official definition of a calamity?', 'What went wrong when scaling up care?',
        'How can organisations learn from calamities elsewhere?'],
      question_label: 'Your question',
      question_placeholder: 'Ask a question about the reports…',
      new_chat: 'New conversation',
      new_chat_done: 'New conversation started.',
      ask: 'Ask',
      composer_hint: 'Enter sends, Shift+Enter for a new line. Do not share client details.',
      you: 'You',
      assistant: 'Rode Draad',
      thinking: 'Searching the reports…',
      answer_ready: 'Answer ready.',
      sources: 'Sources',
      cite_label: 'Source {n}: {title}, page {page}',
      cite_pending: 'Source {n}',
      understood_as: 'Understood as: “{q}”',
      copy_md: 'Copy as Markdown',
      copied: 'Answer and sources copied.',
      copy_failed: 'Copying failed; please select the text by hand.',
      abstain_title: 'The reports do not answer this',
      abstain_text: 'The reports give no supported answer to this. These reports come closest; rephrasing may help.',
      abstain_none: 'No reports came close either.',
      nearest: 'Nearest reports',
      page_short: 'p. {page}',
      pdf_page_short: 'PDF page {page}',
      no_year: 'n.d.',
      err_auth: 'This server needs a valid API key.',
      err_missing: 'Not found.',
      err_rate: 'Too many requests; please wait a moment and try again.',
      err_invalid: 'The question could not be processed: {msg}',
      err_server: 'Something went wrong on the server. Please try again later.',
      err_network: 'No connection to the server.',
      err_stream: 'The answer was interrupted. Please try again.',
      feature_missing: 'This feature is not available on this server (yet).',
      precedents_title: 'Precedents',
      precedents_text: 'Find reports about similar situations; one result per report, with the passages that resemble it.',
      precedents_label: 'Describe the situation',
      precedents_placeholder: 'E.g. foster family, screening of foster parents',
      precedents_empty: 'No similar reports found.',
      precedents_count: '{n} report(s) found.',
      search: 'Search',
      searching: 'Searching…',
      filters_apply: 'The year filters from Ask apply here and in Themes too.',
      period: 'Period',
      cases: 'Cases',
      themes_title: 'Themes',
      themes_text: 'Common threads that recur across reports. Pick a theme to see its passages or open a session pack.',
      themes_empty: 'No themes found.',
      theme_count: '{n} passages',
      theme_docs: 'in {n} report(s)',
      theme_passages: 'Passages',
      theme_none: 'No passages within these filters.',
      by_year: 'By year:',
      ask_about: 'Ask about this',
      about: 'about: {reports}',
      kind_mentioned: 'Mentioned report',
      mentioned_in: 'Not in the index; mentioned in: {docs}',
      back: 'Back to all themes',
      pack: 'Open session pack',
      pack_opening: 'Preparing the session pack…',
      pack_ready: 'The session pack is ready:',
      pack_link: 'open the session pack',
      pack_download: 'download the session pack',
      footer: 'Rode Draad is open source. Answers come from published reports; this is not advice on an individual case.',
      passage: 'Passage',
      close: 'Close',
      printed_page: 'Page',
      pdf_page: 'PDF page',
      section: 'Section',
      original: 'Original publication',
      copy_link: 'Copy link',
      link_copied: 'Link to the passage copied.',
      context_before: 'Text before',
      context_after: 'Text after',
      passage_missing: 'This passage is not (or no longer) in the index.',
      open_passage: 'Open passage',
      md_question: 'Question',
      md_sources: 'Sources',
      md_nearest: 'Nearest reports',
      md_footer: 'Rode Draad: an independent assistant over public calamity reports (not the inspectorate).',
    },
  };

  const KEY_STORE = 'rodedraad.apiKey';
  const LANG_STORE = 'rodedraad.lang';
  const MAX_HISTORY = 20; // turns sent back (the API accepts 40)

  const store = {
    get(area, k) { try { return window[area].getItem(k); } catch (_) { return null; } },
    set(area, k, v) { try { if (v == null) window[area].removeItem(k); else window[area].setItem(k, v); } catch (_) { /* private mode */ } },
  };

  const state = {
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

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  function t(key, vars) {
    const table = I18N[state.lang] || I18N.nl;
    let s = key in table ? table[key] : (I18N.nl[key] ?? key);
    if (typeof s === 'string' && vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
    return s;
  }

  /** Element builder: el('p', {class: 'x', text: 'y'}, child...). Never uses innerHTML. */
  function el(tag, attrs = {}, ...children) {
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
  function i18nText(node, key, vars, attr) {
    const name = attr ? `data-i18n-${attr}` : 'data-i18n';
    node.setAttribute(name, key);
    if (vars) node.setAttribute(`${name}-vars`, JSON.stringify(vars));
    else node.removeAttribute(`${name}-vars`);
    const value = t(key, vars);
    if (attr) node.setAttribute(attr, value); else node.textContent = value;
    return node;
  }

  function applyI18n(root = document) {
    const vars = (node, name) => { const v = node.getAttribute(`${name}-vars`); return v ? JSON.parse(v) : undefined; };
    for (const node of $$('[data-i18n]', root)) node.textContent = t(node.dataset.i18n, vars(node, 'data-i18n'));
    for (const attr of ['placeholder', 'aria-label', 'title']) {
      const name = `data-i18n-${attr}`;
      for (const node of $$(`[${name}]`, root)) node.setAttribute(attr, t(node.getAttribute(name), vars(node, name)));
    }
  }

  function setLang(lang) {
    state.lang = I18N[lang] ? lang : 'nl';
    store.set('localStorage', LANG_STORE, state.lang);
    document.documentElement.lang = state.lang;
    const toggle = $('#lang-toggle');
    toggle.lang = state.lang === 'nl' ? 'en' : 'nl';
    applyI18n();
    renderExamples();
    updateFilterSummary();
  }

  // ---------------------------------------------------------------- API
  class ApiError extends Error {
    constructor(status, message) { super(message || `HTTP ${status}`); this.status = status; }
  }

  async function api(path, { method = 'GET', json, signal, accept } = {}) {
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

  const getJSON = async (path, opts) => (await api(path, opts)).json();

  function errorText(err) {
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

  // ---------------------------------------------------------------- auth (only when the API asks)
  function showAuth(wrong) {
    const box = $('#auth');
    box.hidden = false;
    const hint = $('.hint', box);
    i18nText(hint, wrong ? 'auth_wrong' : 'auth_hint');
    const input = $('#api-key');
    input.value = '';
    input.focus();
  }

  function initAuth() {
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

  // ---------------------------------------------------------------- small helpers
  const yearText = (y) => (y == null || y === '' ? t('no_year') : String(y));

  function toast(key, vars) {
    const box = $('#toast');
    i18nText(box, key, vars);
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.hidden = true; }, 3200);
  }

  function announce(text) {
    const live = $('#sr-status');
    live.textContent = '';
    setTimeout(() => { live.textContent = text; }, 30);
  }

  async function copyText(text) {
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

  const passageLink = (chunkId) => `${location.origin}${location.pathname}?passage=${encodeURIComponent(chunkId)}`;

  function snippet(text, n = 220) {
    const s = (text || '').replace(/\s+/g, ' ').trim();
    return s.length > n ? `${s.slice(0, n).replace(/\s+\S*$/, '')}…` : s;
  }

  // ---------------------------------------------------------------- documents & filters
  async function loadDocuments() {
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

  function yearValue(input) {
    const v = parseInt(input.value, 10);
    const ok = !input.value || (Number.isInteger(v) && v >= 1900 && v <= 2100);
    input.setAttribute('aria-invalid', ok ? 'false' : 'true');
    return ok && input.value ? v : null;
  }

  function currentFilters() {
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

  function updateFilterSummary() {
    const f = currentFilters();
    const parts = [];
    if (f && (f.year_from || f.year_to)) parts.push(t('filter_years', { from: f.year_from || '…', to: f.year_to || '…' }));
    if (f && f.doc_ids) parts.push(t('filter_reports', { n: f.doc_ids.length }));
    $('#filter-summary').textContent = parts.length ? `(${parts.join(', ')})` : `(${t('filter_off')})`;
    $('#filters').classList.toggle('active', parts.length > 0);
  }

  function initFilters() {
    for (const id of ['#year-from', '#year-to']) $(id).addEventListener('input', updateFilterSummary);
    $('#filters-clear').addEventListener('click', () => {
      $('#year-from').value = '';
      $('#year-to').value = '';
      for (const box of $$('#doc-list input[name=doc]')) box.checked = false;
      updateFilterSummary();
    });
  }

  // ---------------------------------------------------------------- chat
  function renderExamples() {
    const list = $('#examples');
    list.replaceChildren(...t('examples').map((q) => el('li', {},
      el('button', { type: 'button', class: 'example', text: q, onclick: () => { $('#question').value = q; ask(q); } }))));
  }

  /** Answer text with [n] markers turned into citation chips; paragraphs kept. */
  function renderAnswerText(container, text, citations) {
    const byN = new Map((citations || []).map((c) => [c.n, c]));
    const paragraphs = (text || '').split(/\n{2,}/).filter((p) => p.trim());
    container.replaceChildren(...paragraphs.map((para, i) => {
      const p = el('p', { class: i === 0 && paragraphs.length > 1 ? 'lead-line' : null });
      const re = /\[(\d+(?:\s*[,;]\s*\d+)*)\]/g;
      let last = 0;
      let m;
      const pushText = (s) => {
        s.split('\n').forEach((line, j) => { if (j) p.append(el('br')); if (line) p.append(line); });
      };
      while ((m = re.exec(para))) {
        pushText(para.slice(last, m.index));
        const ns = m[1].split(/\s*[,;]\s*/).map(Number);
        const group = el('span', { class: 'chips' });
        for (const n of ns) group.append(chip(n, byN.get(n), citations != null));
        p.append(group);
        last = re.lastIndex;
      }
      pushText(para.slice(last));
      return p;
    }));
  }

  function chip(n, c, final) {
    if (!c) {
      const span = el('span', { class: `chip chip-pending${final ? ' chip-missing' : ''}`, text: String(n) });
      i18nText(span, 'cite_pending', { n }, 'aria-label');
      return span;
    }
    const btn = el('button', {
      type: 'button', class: 'chip', text: String(n), 'data-n': String(n), 'data-chunk': c.chunk_id,
      onclick: (ev) => openPassage(c.chunk_id, { quote: c.quote, opener: ev.currentTarget }),
    });
    i18nText(btn, 'cite_label', { n, title: c.title, page: c.page_label || c.page }, 'aria-label');
    i18nText(btn, 'cite_label', { n, title: c.title, page: c.page_label || c.page }, 'title');
    return btn;
  }

  function renderSources(c) {
    return el('li', { class: 'source' },
      chip(c.n, c, true),
      el('div', { class: 'source-body' },
        el('button', {
          type: 'button', class: 'source-title linklike', text: `${c.title} (${yearText(c.year)})`,
          onclick: (ev) => openPassage(c.chunk_id, { quote: c.quote, opener: ev.currentTarget }),
        }),
        el('span', { class: 'source-page' },
          el('span', { i18n: ['page_short', { page: c.page_label || c.page }] }),
          ' · ',
          el('span', { i18n: ['pdf_page_short', { page: c.page }] })),
        c.quote ? el('q', { class: 'source-quote', text: snippet(c.quote, 180) }) : null));
  }

  function newTurn(question) {
    const answer = el('div', { class: 'answer-text' });
    const status = el('p', { class: 'status', role: 'status' },
      el('span', { class: 'dots', 'aria-hidden': 'true' }, el('i'), el('i'), el('i')),
      el('span', { i18n: ['thinking'] }));
    const extra = el('div', { class: 'answer-extra' });
    const article = el('article', { class: 'turn' },
      el('div', { class: 'msg msg-user' },
        el('p', { class: 'msg-who', i18n: ['you'] }),
        el('p', { class: 'question-text', text: question })),
      el('div', { class: 'msg msg-assistant', 'aria-busy': 'true' },
        el('p', { class: 'msg-who', i18n: ['assistant'] }),
        status, answer, extra));
    $('#conversation').append(article);
    article.scrollIntoView({ block: 'start', behavior: 'smooth' });
    return { article, answer, status, extra, box: $('.msg-assistant', article) };
  }

  function finishTurn(turn, result, question) {
    turn.status.remove();
    turn.box.setAttribute('aria-busy', 'false');
    turn.box.classList.toggle('abstained', !!result.abstained);
    renderAnswerText(turn.answer, result.answer, result.citations || []);
    const parts = [];
    if (result.abstained) {
      // Say it plainly: a marked notice holding the assistant's own words, then the nearest reports.
      const nearest = result.nearest || [];
      const notice = el('div', { class: 'abstain-notice', role: 'note' },
        el('p', { class: 'abstain-title', i18n: ['abstain_title'] }), turn.answer);
      turn.box.insertBefore(notice, turn.extra);
      parts.push(nearest.length
        ? el('section', { class: 'nearest' },
          el('h3', { class: 'subhead', i18n: ['nearest'] }),
          el('p', { class: 'hint', i18n: ['abstain_text'] }),
          el('ul', { class: 'nearest-list' }, nearest.map((p) => el('li', {},
            el('button', {
              type: 'button', class: 'source-title linklike', 'data-chunk': p.chunk_id,
              text: `${p.title} (${yearText(p.year)})`,
              onclick: (ev) => openPassage(p.chunk_id, { opener: ev.currentTarget }),
            }),
            el('span', { class: 'source-page', i18n: ['page_short', { page: p.page_label }] })))))
        : el('p', { class: 'hint', i18n: ['abstain_none'] }));
    }
    if (result.citations && result.citations.length) {
      parts.push(el('section', { class: 'sources' },
        el('h3', { class: 'subhead', i18n: ['sources'] }),
        el('ol', { class: 'source-list' }, result.citations.map(renderSources))));
    }
    const sq = (result.standalone_question || '').trim();
    if (sq && sq.toLowerCase() !== question.trim().toLowerCase() && state.history.length) {
      parts.push(el('p', { class: 'hint understood', i18n: ['understood_as', { q: sq }] }));
    }
    const copyBtn = el('button', {
      type: 'button', class: 'btn btn-quiet btn-small copy-md', i18n: ['copy_md'],
      onclick: async () => { toast((await copyText(toMarkdown(question, result))) ? 'copied' : 'copy_failed'); },
    });
    parts.push(el('div', { class: 'answer-actions' }, copyBtn));
    turn.extra.replaceChildren(...parts);
    turn.box.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    announce(`${t('answer_ready')} ${result.answer}`);
  }

  function failTurn(turn, message) {
    turn.status.remove();
    turn.box.setAttribute('aria-busy', 'false');
    if (!turn.answer.textContent.trim()) turn.answer.replaceChildren();
    turn.extra.replaceChildren(el('p', { class: 'error', role: 'alert', text: message }));
  }

  function toMarkdown(question, r) {
    const lines = [`**${t('md_question')}:** ${question}`, '', r.answer.trim(), ''];
    if (r.citations && r.citations.length) {
      lines.push(`**${t('md_sources')}**`);
      for (const c of r.citations) {
        let line = `[${c.n}] ${c.title} (${yearText(c.year)}), [${t('page_short', { page: c.page_label || c.page })}](${passageLink(c.chunk_id)})`;
        if (c.url) line += ` — ${c.url}`;
        lines.push(line);
      }
      lines.push('');
    } else if (r.nearest && r.nearest.length) {
      lines.push(`**${t('md_nearest')}**`);
      for (const p of r.nearest) lines.push(`- ${p.title} (${yearText(p.year)}), [${t('page_short', { page: p.page_label })}](${passageLink(p.chunk_id)})`);
      lines.push('');
    }
    lines.push(`_${t('md_footer')}_`);
    return lines.join('\n');
  }

  function setBusy(busy) {
    state.busy = busy;
    $('#ask').disabled = busy;
    $('#conversation').setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  /** Parse server-sent events from a fetch() body: yields {event, data}. */
  async function* sseEvents(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const parse = (raw) => {
      let event = 'message';
      const data = [];
      for (const line of raw.split('\n')) {
        if (line.startsWith(':')) continue;
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        let value = i < 0 ? '' : line.slice(i + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      return data.length ? { event, data: data.join('\n') } : null;
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (value) buffer += decoder.decode(value, { stream: true });
      buffer = buffer.replace(/\r\n?/g, '\n');
      let idx;
      while ((idx = buffer.indexOf('\n\n')) >= 0) {
        const ev = parse(buffer.slice(0, idx));
        buffer = buffer.slice(idx + 2);
        if (ev) yield ev;
      }
      if (done) {
        const ev = parse(buffer);
        if (ev) yield ev;
        return;
      }
    }
  }

  async function ask(rawQuestion) {
    const question = (rawQuestion || '').trim();
    if (!question || state.busy) return;
    $('#welcome').hidden = true;
    $('#question').value = '';
    const turn = newTurn(question);
    const body = { question, history: state.history.slice(-2 * MAX_HISTORY) };
    const filters = currentFilters();
    if (filters) body.filters = filters;
    const controller = new AbortController();
    state.controller = controller;
    setBusy(true);
    let text = '';
    let result = null;
    try {
      const res = await api('/api/chat/stream', { method: 'POST', json: body, signal: controller.signal, accept: 'text/event-stream' });
      if (res.body && res.body.getReader) {
        for await (const ev of sseEvents(res)) {
          const data = JSON.parse(ev.data);
          if (ev.event === 'delta') {
            text += data.text || '';
            if (turn.status.isConnected && text) turn.status.remove();
            renderAnswerText(turn.answer, text, null);
          } else if (ev.event === 'done') {
            result = data;
          } else if (ev.event === 'error') {
            throw new ApiError(500, data.error || '');
          }
        }
      } else {
        result = await getJSON('/api/chat', { method: 'POST', json: body, signal: controller.signal });
      }
      if (!result) throw new ApiError(-1, t('err_stream'));
      finishTurn(turn, result, question);
      state.history.push({ role: 'user', content: question }, { role: 'assistant', content: result.answer.slice(0, 20000) });
    } catch (err) {
      if (err.name === 'AbortError') { turn.article.remove(); return; }
      if (err.status === 401) { state.retry = () => { turn.article.remove(); ask(question); }; }
      failTurn(turn, err.status === -1 ? t('err_stream') : errorText(err));
    } finally {
      if (state.controller === controller) { state.controller = null; setBusy(false); }
    }
  }

  function newConversation() {
    if (state.controller) state.controller.abort();
    state.controller = null;
    setBusy(false);
    state.history = [];
    $$('#conversation .turn').forEach((n) => n.remove());
    $('#welcome').hidden = false;
    closePanel(false);
    switchView('chat');
    $('#question').value = '';
    $('#question').focus();
    toast('new_chat_done');
  }

  function initChat() {
    const form = $('#ask-form');
    const q = $('#question');
    form.addEventListener('submit', (ev) => { ev.preventDefault(); ask(q.value); });
    q.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); ask(q.value); }
    });
    $('#new-chat').addEventListener('click', newConversation);
  }

  // ---------------------------------------------------------------- passage side panel
  function markQuote(block, text, quote) {
    const norm = (s) => s.replace(/\s+/g, ' ');
    const body = norm(text || '');
    const q = norm(quote || '').trim();
    const at = q ? body.indexOf(q) : -1;
    if (at < 0) { block.replaceChildren(body); return; }
    block.replaceChildren(body.slice(0, at), el('mark', { text: q }), body.slice(at + q.length));
  }

  /** The text just before (its end) and after (its start) the passage, so the passage stays in view. */
  function contextBlock(key, passages, tail) {
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

  async function openPassage(chunkId, { quote = '', opener = null } = {}) {
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
    $('#panel-title').focus();
    try {
      const data = await getJSON(`/api/passages/${encodeURIComponent(chunkId)}`);
      if (state.panelChunk !== chunkId) return;
      const p = data.passage;
      const title = $('#panel-title');
      title.removeAttribute('data-i18n');
      title.textContent = p.title;
      $('#panel-meta').textContent = [p.publisher, yearText(p.year), p.doc_type].filter(Boolean).join(' · ');
      $('#panel-page').textContent = p.page_label || String(p.page);
      $('#panel-pdf-page').textContent = String(p.page);
      $('#panel-section').textContent = p.section || '';
      $('#panel-section-row').hidden = !p.section;
      markQuote($('#panel-text'), p.text, quote);
      $('#panel-before').replaceChildren(...contextBlock('context_before', data.before, true));
      $('#panel-after').replaceChildren(...contextBlock('context_after', data.after, false));
      const link = $('#panel-link');
      if (p.url) { link.href = p.url; link.hidden = false; } else { link.removeAttribute('href'); link.hidden = true; }
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

  function closePanel(restoreFocus = true) {
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

  function initPanel() {
    $('#panel-close').addEventListener('click', () => closePanel());
    $('#scrim').addEventListener('click', () => closePanel());
    document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape' && !$('#panel').hidden) closePanel(); });
    $('#panel-copy-link').addEventListener('click', async () => {
      const id = $('#panel').dataset.chunk;
      if (id) toast((await copyText(passageLink(id))) ? 'link_copied' : 'copy_failed');
    });
  }

  // ---------------------------------------------------------------- views (tabs)
  const VIEWS = ['chat', 'precedents', 'themes'];
  const HASHES = { chat: '', precedents: '#precedenten', themes: '#themas' };

  function switchView(view, focusTab = false) {
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

  function initTabs() {
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

  // ---------------------------------------------------------------- precedents
  /** Passages as buttons that open the side panel, showing the quoted sentence when there is one;
   * `withDoc` adds the report (for lists across reports). */
  function passageButtons(passages, limit = 3, withDoc = false) {
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
  function factValue(fact) {
    if (fact == null) return null;
    if (typeof fact !== 'object') return el('dd', { text: String(fact) });
    return el('dd', {},
      el('button', {
        type: 'button', class: 'linklike fact', text: fact.match || snippet(fact.text, 80),
        onclick: (ev) => openPassage(fact.chunk_id, { quote: fact.text, opener: ev.currentTarget }),
      }),
      fact.page_label ? el('span', { class: 'source-page', i18n: ['page_short', { page: fact.page_label }] }) : null);
  }

  const docTitle = (id) => (state.docs.find((d) => d.doc_id === id) || {}).title || id;

  function yearParams(params = new URLSearchParams()) {
    const f = currentFilters();
    if (f && f.year_from) params.set('year_from', f.year_from);
    if (f && f.year_to) params.set('year_to', f.year_to);
    return params;
  }

  function precedentCard(d) {
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
      d.url ? el('a', { class: 'card-link', href: d.url, target: '_blank', rel: 'noopener noreferrer', i18n: ['original'] }) : null);
  }

  async function searchPrecedents(q) {
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

  function initPrecedents() {
    $('#precedents-form').addEventListener('submit', (ev) => { ev.preventDefault(); searchPrecedents($('#precedents-q').value); });
  }

  // ---------------------------------------------------------------- themes & session pack
  async function loadThemes() {
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

  async function openTheme(id) {
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
  async function openPack(id, out) {
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

  // ---------------------------------------------------------------- start
  function init() {
    $('#lang-toggle').addEventListener('click', () => setLang(state.lang === 'nl' ? 'en' : 'nl'));
    initAuth();
    initFilters();
    initChat();
    initPanel();
    initTabs();
    initPrecedents();
    const params = new URLSearchParams(location.search);
    setLang(params.get('lang') || state.lang);
    const view = Object.keys(HASHES).find((v) => HASHES[v] && HASHES[v] === location.hash);
    switchView(view || 'chat');
    loadDocuments();
    if (state.themes === null) loadThemes();
    if (params.get('q')) $('#question').value = params.get('q').slice(0, 2000);
    const passage = params.get('passage');
    if (passage) openPassage(passage);
    document.documentElement.classList.add('js-ready');
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();

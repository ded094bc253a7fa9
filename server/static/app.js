/* Rode Draad web chat: native ES modules, no build step, nothing loaded from elsewhere.
 * Talks to the API on the same origin: /api/chat/stream (SSE over fetch), /api/documents,
 * /api/passages/{id}, /api/precedents, /api/themes, /api/pack. This module starts the page. */
import { initAuth } from './api.js';
import { initChat, renderExamples } from './chat.js';
import { $, LANG_STORE, applyI18n, state, store } from './dom.js';
import { initFilters, loadDocuments, updateFilterSummary } from './filters.js';
import { initPanel, openPassage } from './panel.js';
import { I18N } from './strings.js';
import { HASHES, initPrecedents, initTabs, loadThemes, switchView } from './views.js';

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

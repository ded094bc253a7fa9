/* The conversation: asking, streaming the answer with citation chips, copying, abstentions. */
import { ApiError, announce, api, copyText, errorText, getJSON, passageLink, snippet, toast, yearText } from './api.js';
import { $, $$, MAX_HISTORY, el, i18nText, state, t } from './dom.js';
import { markQuotes, markdownText, quoteRuns, webUrl } from './doctext.js';
import { currentFilters } from './filters.js';
import { closePanel, openPassage } from './panel.js';
import { switchView } from './views.js';

export function renderExamples() {
  const list = $('#examples');
  list.replaceChildren(...t('examples').map((q) => el('li', {},
    el('button', { type: 'button', class: 'example', text: q, onclick: () => { $('#question').value = q; ask(q); } }))));
}

/** Answer text with [n] markers turned into citation chips; paragraphs kept. */
export function renderAnswerText(container, text, citations) {
  const byN = new Map((citations || []).map((c) => [c.n, c]));
  const paragraphs = (text || '').split(/\n{2,}/).filter((p) => p.trim());
  container.replaceChildren(...paragraphs.map((para, i) => {
    const p = el('p', { class: i === 0 && paragraphs.length > 1 ? 'lead-line' : null });
    const re = /\[(\d+(?:\s*[,;]\s*\d+)*)\]/g;
    let last = 0;
    let m;
    const pushLines = (node, s) => {
      s.split('\n').forEach((line, j) => { if (j) node.append(el('br')); if (line) node.append(line); });
    };
    // a document's words, quoted verbatim, are shown as a quotation: never in the assistant's voice
    const pushText = (s) => {
      for (const run of quoteRuns(s, citations)) {
        if (run.quote) { const q = el('q', { class: 'doc-quote' }); pushLines(q, run.text); p.append(q); } else pushLines(p, run.text);
      }
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

export function chip(n, c, final) {
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

export function renderSources(c) {
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
        el('span', { i18n: ['pdf_page_short', { page: c.page }] }),
        c.ocr ? ocrLabel(c.ocr_confidence) : null),
      c.quote ? el('q', { class: 'source-quote', text: snippet(c.quote, 180) }) : null));
}

// Text read from a scan may hold OCR errors: say so, so the reader checks the original.
export function ocrLabel(confidence) {
  const label = el('span', { class: 'ocr-label' }, ' · ', el('span', { i18n: ['ocr_text'] }));
  i18nText(label, 'ocr_hint', { conf: Math.round(confidence || 0) }, 'title');
  return label;
}

export function newTurn(question) {
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

export function finishTurn(turn, result, question) {
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

export function failTurn(turn, message) {
  turn.status.remove();
  turn.box.setAttribute('aria-busy', 'false');
  if (!turn.answer.textContent.trim()) turn.answer.replaceChildren();
  turn.extra.replaceChildren(el('p', { class: 'error', role: 'alert', text: message }));
}

export function toMarkdown(question, r) {
  // Every text from a document (answer quotes, titles, page labels) is escaped for Markdown.
  const answer = markdownText(markQuotes(r.answer.trim(), r.citations));
  const lines = [`**${t('md_question')}:** ${markdownText(question)}`, '', answer, ''];
  const page = (label) => markdownText(t('page_short', { page: label }));
  if (r.citations && r.citations.length) {
    lines.push(`**${t('md_sources')}**`);
    for (const c of r.citations) {
      let line = `[${c.n}] ${markdownText(c.title)} (${yearText(c.year)}), [${page(c.page_label || c.page)}](${passageLink(c.chunk_id)})`;
      const url = webUrl(c.url);
      if (url) line += ` — <${url}>`; // URL() percent-encodes < and >: the autolink cannot be broken out of
      lines.push(line);
    }
    lines.push('');
  } else if (r.nearest && r.nearest.length) {
    lines.push(`**${t('md_nearest')}**`);
    for (const p of r.nearest) lines.push(`- ${markdownText(p.title)} (${yearText(p.year)}), [${page(p.page_label)}](${passageLink(p.chunk_id)})`);
    lines.push('');
  }
  lines.push(`_${t('md_footer')}_`);
  return lines.join('\n');
}

export function setBusy(busy) {
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

export async function ask(rawQuestion) {
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

export function newConversation() {
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

export function initChat() {
  const form = $('#ask-form');
  const q = $('#question');
  form.addEventListener('submit', (ev) => { ev.preventDefault(); ask(q.value); });
  q.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); ask(q.value); }
  });
  $('#new-chat').addEventListener('click', newConversation);
}

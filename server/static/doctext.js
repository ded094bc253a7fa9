/* Document text shown as text (mirrors server/document_text.py): Markdown escaping for
   "Kopieer als Markdown", quotes found in an answer, and web links that are only ever http(s). */

const OPENING = '“"‘\'«„';
const CLOSING = '”"’\'»“';
const MD_SPECIAL = /([\\`*_[\]<>!|~&])/g;
const MD_LINE_START = /^(\s*)([#+-]|\d+(?=[.)]))/gm;
const AUTOLINK = /(?<=[A-Za-z])(:)(?=\/\/)|(?<=\bwww)(\.)/gi;
const ESCAPED_MARKER = /\\\[(\d{1,3})\\\](?![:(])/g;

/** `text` for a Markdown renderer: no link, image, HTML, emphasis or block from a document;
 *  our citation markers [n] stay. */
export function markdownText(text) {
  return String(text || '')
    .replace(MD_SPECIAL, '\\$1')
    .replace(MD_LINE_START, (m, ws, mark) => (/\d/.test(mark) ? `${ws}${mark}\\` : `${ws}\\${mark}`))
    .replace(AUTOLINK, (m) => `\\${m}`)
    .replace(ESCAPED_MARKER, '[$1]');
}

/** A URL from a document, or '' unless it is http(s) (the API already drops the rest). */
export function webUrl(url) {
  try {
    const u = new URL(String(url || ''));
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : '';
  } catch (_) {
    return '';
  }
}

/** The quoted pieces of the citations, longest first. */
export function citedQuotes(citations) {
  const pieces = new Set();
  for (const c of citations || []) {
    for (const p of String(c.quote || '').split(' … ')) if (p.trim().length > 2) pieces.add(p.trim());
  }
  return [...pieces].sort((a, b) => b.length - a.length);
}

/** `text` split into [{text, quote}] runs, quote=true where a citation's words stand verbatim,
 *  so that the page shows them as a quotation (<q>), never as the assistant's own voice. */
export function quoteRuns(text, citations) {
  const marks = new Array(text.length).fill(false);
  for (const q of citedQuotes(citations)) {
    let i = text.indexOf(q);
    while (i >= 0) {
      const end = i + q.length;
      const marked = (i > 0 && OPENING.includes(text[i - 1])) || (end < text.length && CLOSING.includes(text[end]));
      if (!marked) for (let j = i; j < i + q.length; j += 1) marks[j] = true;
      i = text.indexOf(q, i + q.length);
    }
  }
  // the answer composer quotes every unit itself (“…”): show those as quotations too, without the marks
  const skip = new Array(text.length).fill(false);
  for (const m of text.matchAll(/“([^“”]+)”/g)) {
    skip[m.index] = true;
    skip[m.index + m[0].length - 1] = true;
    for (let j = m.index + 1; j < m.index + m[0].length - 1; j += 1) marks[j] = true;
  }
  const runs = [];
  for (let i = 0; i < text.length; i += 1) {
    if (skip[i]) { runs.push({ text: '', quote: false }); continue; }
    if (runs.length && runs[runs.length - 1].quote === marks[i]) runs[runs.length - 1].text += text[i];
    else runs.push({ text: text[i], quote: marks[i] });
  }
  return runs.filter((r) => r.text);
}

/** `text` with the citations' verbatim words between quotation marks (for plain text and Markdown). */
export function markQuotes(text, citations) {
  return quoteRuns(text, citations).map((r) => (r.quote ? `“${r.text}”` : r.text)).join('');
}

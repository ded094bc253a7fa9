"""A SessionPack as Markdown or as one self-contained HTML page (inline CSS, no scripts, every text escaped).

Every quote carries its source number; every source links to `/?passage=<chunk_id>` on the web page
and names the report, its year and the printed page.
"""
from __future__ import annotations

import html
import re

from .pack import Quote, SessionPack, Source

DISCLAIMER = ("Samengesteld door Rode Draad, een onafhankelijke assistent over openbare rapporten; niet de inspectie. "
              "Citaten zijn letterlijk overgenomen uit de genoemde bronnen. De indeling in ‘wat goed gaat’ en ‘wat "
              "misgaat’ is gemaakt op signaalwoorden: lees de bron voor de context. Vragen zijn suggesties.")
SUGGESTION = "Suggestie voor bespreking"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|])")


def md(text: str) -> str:
    """Text safe to put in Markdown: no raw HTML (&, <, > as entities), other special characters
    backslash-escaped, line breaks flattened."""
    text = " ".join(str(text).split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def source_label(s: Source) -> str:
    """'Title (2019), p. 10', plus the reports the passage reports on and a pre-Jeugdwet flag."""
    p = s.passage
    label = f"{p.title} ({p.year or 'z.j.'}), p. {p.page_label}"
    if s.about:
        label += "; over " + ", ".join(f"{r.title} ({r.year or 'z.j.'})" for r in s.about)
    if s.pre_jeugdwet:
        label += " (van vóór de Jeugdwet van 2015)"
    return label


def _filters_line(pack: SessionPack) -> str:
    f = pack.filters
    parts = []
    if f.year_from or f.year_to:
        parts.append(f"jaren {f.year_from or '…'}–{f.year_to or '…'}")
    if f.publishers:
        parts.append("uitgever " + ", ".join(f.publishers))
    if f.doc_types:
        parts.append("soort " + ", ".join(f.doc_types))
    return "; ".join(parts)


def render_markdown(pack: SessionPack) -> str:
    """The pack as Markdown; citations are links `[n](<base>/?passage=<chunk_id>)`."""
    def cite(s: Source) -> str:
        return f"[[{s.n}]]({s.link(pack.base_url)})"

    def quote_line(q: Quote) -> str:
        return f"- “{md(q.text)}” {cite(q.source)} — *{md(source_label(q.source))}*"

    filters = _filters_line(pack)
    out = [f"# Leersessie: {md(pack.theme.title)}", "", f"*{md(DISCLAIMER)}*", "",
           f"Gemaakt op {pack.generated.isoformat()}." + (f" Filter: {md(filters)}." if filters else ""),
           "", "## Het thema", "", md(pack.theme.description), ""]
    if pack.theme.examples:
        out += ["Voorbeeldvragen: " + "; ".join(f"“{md(e)}”" for e in pack.theme.examples), ""]
    out += ["## Wat de rapporten zeggen", ""]
    out += [quote_line(q) for q in pack.quotes] or ["Geen passages over dit thema gevonden (met dit filter)."]
    for title, items in (("Wat goed gaat", pack.went_well), ("Wat misgaat of ontbreekt", pack.went_wrong)):
        out += ["", f"## {title}", ""]
        out += [quote_line(q) for q in items] or ["Geen zinnen met signaalwoorden gevonden."]
    out += ["", "## Suggesties voor bespreking", ""]
    by_n = {s.n: s for s in pack.sources}
    for q in pack.questions:
        text = re.sub(r"\\\[(\d+)\\\]", lambda m: cite(by_n[int(m.group(1))]) if int(m.group(1)) in by_n else m.group(),
                      md(q.text))
        out.append(f"- **{SUGGESTION}:** {text}")
    out += ["", "## Bronnen", ""]
    for s in pack.sources:
        p = s.passage
        section = f", § {md(p.section)}" if p.section else ""
        out.append(f"{s.n}. {md(source_label(s))}{section}, {md(p.publisher)} — "
                   f"[passage {md(p.chunk_id)}]({s.link(pack.base_url)})")
    return "\n".join(out) + "\n"


_CSS = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1d1f;
     max-width:52rem;margin:2rem auto;padding:0 1rem}
h1{color:#a4161a;font-size:1.8rem}h2{border-bottom:2px solid #a4161a;padding-bottom:.2rem;margin-top:2rem}
.note{color:#555;font-size:.9rem}blockquote{margin:.6rem 0;padding:.4rem .8rem;
  border-left:4px solid #ccc;background:#f7f7f7}
blockquote.goed{border-color:#2b8a3e}blockquote.mis{border-color:#c92a2a}.src{display:block;font-size:.85rem;color:#444}
.suggestie{background:#fff8e1;border:1px solid #e6c200;border-radius:6px;
  padding:.5rem .8rem;margin:.6rem 0;list-style:none}
.suggestie strong{display:block;font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:#8a6d00}
ol.bronnen li{margin:.3rem 0}a{color:#0b5cad}@media print{a{color:inherit}body{margin:0}}
"""


def render_html(pack: SessionPack) -> str:
    """The pack as one self-contained HTML page (inline CSS, no scripts, no external resources)."""
    e = html.escape

    def cite(s: Source) -> str:
        return f'<a class="ref" href="{e(s.link(pack.base_url))}" title="{e(source_label(s))}">[{s.n}]</a>'

    def block(q: Quote) -> str:
        tone = f' class="{q.tone}"' if q.tone else ""
        return (f"<blockquote{tone}>“{e(q.text)}” {cite(q.source)}"
                f'<span class="src">{e(source_label(q.source))}</span></blockquote>')

    filters = _filters_line(pack)
    parts = ["<!DOCTYPE html>", '<html lang="nl"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>Leersessie: {e(pack.theme.title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>Leersessie: {e(pack.theme.title)}</h1>", f'<p class="note">{e(DISCLAIMER)}</p>',
             f'<p class="note">Gemaakt op {e(pack.generated.isoformat())}.'
             + (f" Filter: {e(filters)}." if filters else "") + "</p>",
             "<h2>Het thema</h2>", f"<p>{e(pack.theme.description)}</p>"]
    if pack.theme.examples:
        parts.append("<p>Voorbeeldvragen: " + "; ".join(f"“{e(x)}”" for x in pack.theme.examples) + "</p>")
    parts.append("<h2>Wat de rapporten zeggen</h2>")
    parts += [block(q) for q in pack.quotes] or ["<p>Geen passages over dit thema gevonden (met dit filter).</p>"]
    for title, items in (("Wat goed gaat", pack.went_well), ("Wat misgaat of ontbreekt", pack.went_wrong)):
        parts.append(f"<h2>{e(title)}</h2>")
        parts += [block(q) for q in items] or ["<p>Geen zinnen met signaalwoorden gevonden.</p>"]
    parts.append("<h2>Suggesties voor bespreking</h2><ul>")
    by_n = {s.n: s for s in pack.sources}
    for q in pack.questions:
        text = re.sub(r"\[(\d+)\]", lambda m: cite(by_n[int(m.group(1))]) if int(m.group(1)) in by_n else m.group(),
                      e(q.text))
        parts.append(f'<li class="suggestie"><strong>{e(SUGGESTION)}</strong>{text}</li>')
    parts.append('</ul><h2>Bronnen</h2><ol class="bronnen">')
    for s in pack.sources:
        p = s.passage
        section = f", § {e(p.section)}" if p.section else ""
        parts.append(f'<li id="bron-{s.n}">{e(source_label(s))}{section}, {e(p.publisher)} — '
                     f'<a href="{e(s.link(pack.base_url))}">passage {e(p.chunk_id)}</a></li>')
    parts.append("</ol></body></html>")
    return "\n".join(parts) + "\n"

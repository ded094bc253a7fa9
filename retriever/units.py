"""Passages → text units: whole sentences and whole list items, each knowing its list lead-in.

Search embeds windows of consecutive units beside each passage; the answer layer quotes whole
units. Both split the same way, so a quoted unit is always one the index has a vector for.

    >>> [u.display for u in split_units("De factoren zijn:\\n\\ne tijd;\\n\\ne geld.")]
    ['De factoren zijn:', 'tijd;', 'geld.']
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

# Abbreviations after which a full stop does not end a sentence (Dutch and English, folded).
ABBREVIATIONS = frozenset("""
    d.d a.d b.v bijv bv ca cf dhr dr drs e.a e.d e.g enz etc et al fig i.e i.o.m i.p.v i.s.m jl m.b.t
    m.i mevr mr nr nrs o.a o.b.v o.i.d p pag pp prof resp t.a.v t.b.v t.o.v t.w vgl vs z.g zgn zie.o
    art lid no vol jr jan feb mrt apr jun jul aug sep sept okt nov dec ing ir st
""".split())

# OCR renders the report's bullet glyphs as letters: "e", "o", "»", "«", "•", "▪", "◦", "-", "–".
_BULLET = re.compile(r"^\s*(?:[•▪◦·*»«\-–—]|e|o|0|\u2022)\s+(?=\S)")
_NUMBERED = re.compile(r"^\s*(?:\d{1,2}|[a-z])[.)]\s+(?=\S)")
# Focus-group and interview codes of the research reports ("(FG2)", "(INT 4)", "(R12)").
_SPEAKER = re.compile(r"\s*\((?:FG|INT|R|Resp\.?|respondent)\s*\d{1,3}(?:[,;]\s*\w+\s*\d{0,3})*\)", re.I)
_SPACE = re.compile(r"\s+")
_INLINE_BULLET = re.compile(r"(?<=\S)\s+([»•▪◦])\s+(?=\S)")
# A sentence ends at . ! ? (optionally followed by closing quotes or brackets) before a capital,
# a digit, an opening quote or bracket.
_END = re.compile(r"(?<=[.!?])[”\"’')\]]*\s+(?=[A-Z\u00C0-\u024F“‘\"'(\[0-9])")
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")


# Part of the ingest recipe: how passages split into units decides which windows are embedded,
# so a change here re-embeds them (under the same passage ids).
UNITS_VERSION = "2"  # 2: the text under a titled list item belongs to the item; "hoofdstuk 2." ends a sentence


@dataclass(frozen=True)
class Unit:
    """A whole sentence or list item of a passage.

    `text`: the raw words (OCR spellings and glyphs kept: quotes must match the passage);
    `display`: the same without bullet glyphs and speaker codes; `lead_in`: for a list item,
    the index of its list's lead-in unit ("… de volgende:"), else -1; `asked`: the unit asks rather
    than answers (see `_mark_asked`)."""

    text: str
    display: str
    paragraph: int
    kind: str  # sentence | item | lead_in
    lead_in: int = -1
    asked: bool = False  # a question, or part of one put to the document's author

    @property
    def words(self) -> int:
        return len(self.display.split())


def clean_display(text: str) -> str:
    """A unit as a reader sees it: no bullet glyph in front, no speaker codes, single spaces."""
    text = _BULLET.sub("", text, count=1)
    text = _SPEAKER.sub("", text)
    return _SPACE.sub(" ", text).strip()


def goes_on(display: str) -> bool:
    """A unit that goes on from the sentence before rather than starting one: it begins with a
    small letter, also behind a bracket or a quote ("(oftewel: kan het …"). The answer layer
    quotes such a unit only with the sentence before it, and counts one quoted alone as broken."""
    return display.lstrip("([“‘\"'")[:1].islower()


def _sentences(paragraph: str) -> list[str]:
    """Sentences of one paragraph; a full stop after a known abbreviation or an initial does not end one."""
    out: list[str] = []
    start = 0
    for m in _END.finditer(paragraph):
        before = paragraph[start:m.start()].rstrip("”\"’')]")
        w = _WORD_BEFORE.search(before)
        if w:
            word = w.group(1).lower().rstrip(".")
            if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or word.replace(".", "") in {"dd", "oa", "ea", "eg", "ie"}:
                continue
        out.append(paragraph[start:m.start() + len(m.group(0))].strip())
        start = m.end()
    out.append(paragraph[start:].strip())
    return [s for s in out if s]


@lru_cache(maxsize=50_000)
def split_units(text: str) -> tuple[Unit, ...]:
    """The units of a passage in reading order. Paragraphs are separated by blank lines; a
    paragraph that starts with a bullet or a number is a list item (kept whole), and the unit
    before a run of items that ends in ":" is their lead-in. Cached: passages come back often."""
    units: list[Unit] = []
    lead = -1
    # Lines the PDF joined keep their bullets inside a paragraph ("…; en » veelheid …"): each
    # bullet starts an item of its own.
    text = _INLINE_BULLET.sub(lambda m: "\n\n" + m.group(1) + " ", text)
    paras = [(p_no, _SPACE.sub(" ", para).strip()) for p_no, para in enumerate(re.split(r"\n\s*\n", text))]
    paras = [(p_no, para) for p_no, para in paras if para]
    body = _item_bodies([bool(_BULLET.match(para) or _NUMBERED.match(para)) for _, para in paras],
                        [len(para.split()) for _, para in paras])
    for i, (p_no, para) in enumerate(paras):
        if body[i]:
            item = units[-1]  # the paragraph under a titled item is its text: one item, not two units
            joined = f"{item.text} {para}"
            units[-1] = Unit(joined, clean_display(joined), item.paragraph, "item", item.lead_in)
            continue
        if _BULLET.match(para) or _NUMBERED.match(para):
            if lead < 0 and units and units[-1].text.endswith(":"):
                lead = len(units) - 1
                units[-1] = Unit(units[-1].text, units[-1].display, units[-1].paragraph, "lead_in")
            units.append(Unit(para, clean_display(para), p_no, "item", lead))
            continue
        lead = -1
        for s in _sentences(para):
            units.append(Unit(s, clean_display(s), p_no, "sentence"))
    return _mark_asked(tuple(u for u in units if u.display))


# The headings of a document of questions and answers (Kamervragen, an FAQ): "Vraag 3", "Antwoord 3".
_ASKED_FROM = re.compile(r"^(?:vraag|question|q)\s*\d{1,3}[a-z]?[.:]?$", re.I)
_ASKED_UNTIL = re.compile(r"^(?:antwoord|answer|a)\s*\d{1,3}[a-z]?[.:]?$", re.I)


# A unit that ends in a question mark, behind closing quotes or brackets.
_ASKS = re.compile(r"\?[\s”’\"')\]]*$")


def _mark_asked(units: tuple[Unit, ...]) -> tuple[Unit, ...]:
    """Mark the units that ask rather than answer: those between a question's heading and its
    answer's heading ("Vraag 3" … "Antwoord 3": "Zo ja, graag een toelichting." asks too), a
    sentence or list item ending in "?", and a lead-in whose items mostly do (a report's research
    questions: "… een aantal subvragen:")."""
    asked, within = [], False
    for u in units:
        if _ASKED_FROM.match(u.display) or _ASKED_UNTIL.match(u.display):
            within = bool(_ASKED_FROM.match(u.display))
            asked.append(False)
        else:
            asked.append(within or (u.kind != "lead_in" and bool(_ASKS.search(u.display))))
    for j, u in enumerate(units):
        items = [i for i in range(j + 1, len(units)) if units[i].lead_in == j] if u.kind == "lead_in" else []
        if items and 2 * sum(asked[i] for i in items) > len(items):
            asked[j] = True
    return tuple(replace(u, asked=True) if a else u for u, a in zip(units, asked))


_TITLE_WORDS = 8  # a list item this short can be a title with its text in the paragraph below


def _item_bodies(is_item: list[bool], words: list[int]) -> list[bool]:
    """Which paragraphs are the text under a titled list item ("• opschalen en afschalen." and
    below it "Vrijwillige zorg is …"): a plain paragraph right after a short item, when the next
    paragraph is an item of the same list again or the item before had such a text too. A plain
    paragraph after the last of a list of short items is the text going on, not an item's."""
    body = [False] * len(is_item)
    for i in range(1, len(is_item)):
        if is_item[i] or not is_item[i - 1] or words[i - 1] > _TITLE_WORDS:
            continue
        body[i] = (i + 1 < len(is_item) and is_item[i + 1]) or (i >= 2 and body[i - 2])
    return body


def windows(text: str, size: int = 2) -> list[str]:
    """Overlapping windows of `size` consecutive units (one window for a shorter passage): what
    is embedded beside the passage, so that a passage is also found by its best few sentences."""
    units = [u.display for u in split_units(text)]
    if len(units) <= size:
        return [" ".join(units)] if units else []
    return [" ".join(units[i:i + size]) for i in range(len(units) - size + 1)]

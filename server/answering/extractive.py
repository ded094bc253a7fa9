"""The extractive answer: the unit that answers first, then a few supporting points, all quoted
whole and cited [n]. No LLM; works offline.

A unit is a whole sentence or a whole list item (retriever/units.py). Units are scored by meaning
(the question against the windows the index embedded) and by words (IDF-weighted coverage of the
question's stems), shaped by what the question asks for (a number, a date, a definition, a list).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from retriever.question import QuestionShape
from retriever.units import Unit, goes_on, split_units
from retriever.types import Citation, Hit

from .evidence import DEFINES, DEFINES_ITEM, coverage, has_count

PASSAGES = 6          # passages whose units compete
MAX_POINTS = 4        # supporting points after the lead, each from its own passage (2–4 points, as the issue asks; 4 on tune)
MAX_LIST_ITEMS = 8    # items quoted with a lead-in
MAX_UNIT_CHARS = 900  # a quoted unit with its list, at most
# How a unit's score weighs meaning (best window cosine), words (coverage) and its passage's rank.
MEANING, WORDS, RANK = 4.0, 0.5, 0.4  # chosen on the tune fold (support cited and lead)
VOICE = 0.3  # what a quoted respondent's words lose against the report's own (read on the tune fold)
# A unit that asks (`Unit.asked`) answers none: the questions of a Kamervraag ("Vraag 3 Welke stappen
# neemt u …?", and its "Zo ja, graag een toelichting."), a report's research questions, a respondent's.
ASKED = 1.0  # tune: lead 0.423 → 0.433, support and check unchanged; 0.3 and 5.0 give the same

# Symbols OCR leaves before a unit's first word (registered marks, stars, boxes); quotes and brackets stay.
_LEADING_DEBRIS = re.compile(r"^[^\w“‘\"'(\[€$.…]+")
# An interview or focus-group code that the PDF put before the next sentence.
_LEADING_SPEAKER = re.compile(r"^\((?:FG|INT|R|Resp)\b[^()]{0,40}\)\s*(?=\S)")
# A section heading the PDF ran into its paragraph's first sentence ("Doel van dit onderzoek Met dit
# onderzoek wilden we …"): a capitalised phrase without punctuation, then a lower-case word and a
# capitalised word that opens Dutch sentences. Proper names ("Inspectie Gezondheidszorg en Jeugd")
# do not continue with one of these words.
_RUN_IN_HEADING = re.compile(
    r"^[A-Z\u00C0-\u00DE][^.!?:;()“”\"\n]{2,80}?[a-z\u00DF-\u00FF]\s+"
    r"(?=(?:De|Het|Een|Dit|Deze|Dat|Die|Ook|Met|In|Uit|Op|Voor|Bij|Naast|Daarnaast|Om|Er|We|Wij|Zij|Ze|Hij|"
    r"Als|Wanneer|Door|Na|Tot|Zo|Toch|Maar|Ik|Je|Men|Nu|Dan|Soms|Vaak|Hierbij|Hierin|Daarbij|Daarom|Vanuit|Volgens|"
    r"Uiteindelijk)\s+[a-z\u00DF-\u00FF])")
# A unit that is only a bracketed code ("(INT Friesland 1)", "(zie bijlage 2)") says nothing on its own.
_ONLY_BRACKETS = re.compile(r"^[(\[][^()\[\]]*[)\]][.;,]?$")
# A sentence that leans on the one before it ("Dat …", "Daarop …", "(...) Dat …") is not quoted alone.
_ELIDED = re.compile(r"^\((?:\.\.\.|…)\)\s*")
# Dutch pronominal adverbs (daar-, hier- + a preposition: "Hierin …", "Daarvan …") point back too.
_ANAPHOR = re.compile(r"^(dat|dit|deze|die|daarom|(?:daar|hier)(?:aan|bij|door|in|mee|na|naast|om|onder|op|over|"
                      r"tegen|toe|uit|van|voor)|zij|ze|hij|het gaat|ook|tevens|bovendien|echter|wel|en|maar|want|dus|of|"
                      r"this|that|these|those|it|they|and|but|so)\b",
                      re.I)
# A respondent's words as the report quotes them ("...als in mijn team …", "“Het is …”"): an
# anecdote, not the report's finding, so it leads only when nothing of the report's own is close.
_VOICED = re.compile(r"^\s*(?:\.\.\.|…|[“‘\"'])")
# How a whole sentence ends.
_ENDED = re.compile(r"[.!?;:…”’\"')\]]\s*$")


_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
_DATE = re.compile(r"\b(\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|"
                   r"december)|(19|20)\d\d)\b", re.I)


@dataclass(frozen=True)
class Candidate:
    """One unit of a retrieved passage, scored against the question."""

    hit: int
    index: int
    unit: Unit
    lexical: float
    semantic: float
    score: float


@dataclass(frozen=True)
class Quote:
    """A quoted piece of the answer: consecutive units of one passage, shown and cited whole."""

    hit: int
    indices: tuple[int, ...]
    display: str
    raw: str
    score: float
    lexical: float
    semantic: float


@dataclass(frozen=True)
class Evidence:
    """The lead and the supporting points, best first, and the figures abstention looks at."""

    lead: Quote | None
    points: tuple[Quote, ...]
    best_coverage: float
    best_semantic: float
    parts: tuple[tuple[str, Quote], ...] = ()  # for a message of several questions: (a later question, its unit)
    lead_part: str = ""  # the question the lead answers, when it is not the message's first
    missing: tuple[str, ...] = ()  # the questions of the message that no passage near them answers

    @property
    def quotes(self) -> tuple[Quote, ...]:
        return ((self.lead,) if self.lead else ()) + tuple(q for _p, q in self.parts) + self.points


def _window_unit_scores(window_scores: np.ndarray, units: int) -> np.ndarray:
    """A unit's meaning score: the better of the two windows of two units that hold it."""
    if units == 0:
        return np.zeros(0, dtype=np.float32)
    if len(window_scores) == 0:
        return np.zeros(units, dtype=np.float32)
    if len(window_scores) == 1 or units <= 2:
        return np.full(units, float(window_scores.max()), dtype=np.float32)
    out = np.empty(units, dtype=np.float32)
    for j in range(units):
        around = [window_scores[i] for i in (j - 1, j) if 0 <= i < len(window_scores)]
        out[j] = max(around)
    return out



def score_units(hits: Sequence[Hit], window_scores: Callable[[Hit], np.ndarray],
                stems_of: Callable[[str], Sequence[str]], own: dict[str, float], extra: dict[str, float],
                shape: QuestionShape) -> list[Candidate]:
    """Every usable unit of the best passages, scored by meaning, words, passage rank and shape."""
    out: list[Candidate] = []
    for h_i, hit in enumerate(hits[:PASSAGES]):
        units = split_units(hit.passage.text)
        sem = _window_unit_scores(window_scores(hit), len(units))
        for j, u in enumerate(units):
            if u.words < 3 or _ONLY_BRACKETS.match(u.display):
                continue
            lex = coverage(set(stems_of(u.display)), own, extra)
            score = MEANING * float(sem[j]) + WORDS * lex + RANK / (1 + h_i)
            if shape.quantity and has_count(u.display):
                score += 0.25
            if shape.date and _DATE.search(u.display):
                score += 0.25
            if shape.definition:
                m = DEFINES.match(u.display) or (DEFINES_ITEM.match(u.display) if u.kind == "item" else None)
                term = set(stems_of(m.group("term"))) if m else set()
                if term and term <= shape.definition and 2 * len(term) > len(shape.definition):
                    score += 0.6  # it defines the term asked about (not "Hoewel calamiteiten … zijn")
            if shape.listing and u.kind == "lead_in":
                score += 0.1
            if _VOICED.match(u.display):
                score -= VOICE
            if u.asked:
                score -= ASKED
            out.append(Candidate(h_i, j, u, lex, float(sem[j]), score))
    return out


def _whole(c: Candidate, units: tuple[Unit, ...], with_list: bool) -> tuple[int, ...] | None:
    """The units to quote for a candidate so that it reads whole, or None when it cannot:

    a lead-in comes with its items, an item with its lead-in (and, for a list question, the rest
    of its list), a sentence that leans on the one before it with that one."""
    j = c.index
    u = units[j]
    if u.kind == "lead_in":
        items = [i for i in range(j + 1, len(units)) if units[i].lead_in == j][:MAX_LIST_ITEMS]
        return (j, *items) if items else None
    if u.kind == "item":
        lead = u.lead_in
        if lead < 0:
            # an item whose lead-in is in another passage: whole only if it reads as a sentence
            return None if goes_on(u.display) or _ANAPHOR.match(u.display) else (j,)
        items = [i for i in range(lead + 1, len(units)) if units[i].lead_in == lead][:MAX_LIST_ITEMS]
        return (lead, *items) if with_list else (lead, j)
    if u.text.endswith(":"):
        return None  # a lead-in whose items are elsewhere
    if not _ENDED.search(u.text):
        return None  # cut off by the passage's end (a chunk or page border), or a heading: no whole sentence
    if _ANAPHOR.match(_ELIDED.sub("", u.display)) or goes_on(u.display):
        prev = units[j - 1] if j > 0 else None
        if prev is not None and prev.kind == "sentence" and prev.paragraph == u.paragraph \
                and not prev.text.endswith(":") and not goes_on(prev.display) and not _ANAPHOR.match(prev.display):
            return (j - 1, j)
        return None
    return (j,)


def reader_text(display: str) -> str:
    """A unit as it is shown: OCR debris ("®*Tot de …"), a speaker code ("(INT TSD, Nivel)") and a
    run-in section heading in front of its first sentence dropped. Here, not in
    `retriever.units.clean_display`: the windows are embedded from that display, and moving this
    there re-embeds them and shifted retrieval (tune r@5 0.722 → 0.732, check r@4000c 0.635 →
    0.616), so it stays presentation. A heading as a paragraph of its own in ingestion (the
    mechanism that puts it there) was tried too: tune r@5 0.739 → 0.722, English 0.667 → 0.619."""
    return _RUN_IN_HEADING.sub("", _LEADING_DEBRIS.sub("", _LEADING_SPEAKER.sub("", display)))


def _quote(c: Candidate, indices: tuple[int, ...], units: tuple[Unit, ...]) -> Quote | None:
    parts = [units[i] for i in indices]
    lead_in = parts[0].kind == "lead_in"
    if lead_in:
        display = reader_text(parts[0].display) + "\n" + "\n".join(f"  • {reader_text(p.display)}" for p in parts[1:])
    else:
        display = " ".join(reader_text(p.display) for p in parts)
    if len(display) > MAX_UNIT_CHARS and len(parts) > 2:
        return _quote(c, indices[:-1], units)
    return Quote(c.hit, indices, display, " … ".join(p.text for p in parts), c.score, c.lexical, c.semantic)


def _overlaps(a: set[str], b: set[str]) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) >= 0.5


def select_evidence(hits: Sequence[Hit], candidates: list[Candidate], stems_of: Callable[[str], Sequence[str]],
                    shape: QuestionShape) -> Evidence:
    """The lead (the best unit, whole) and up to MAX_POINTS supporting points, each from a
    passage of its own, never two saying the same: a point from a passage already quoted adds
    less than another passage, which is also another source to check (support cited on the tune
    fold: 0.680 → 0.711, check unchanged)."""
    if not candidates:
        return Evidence(None, (), 0.0, 0.0)
    ranked = sorted(candidates, key=lambda c: c.score, reverse=True)
    chosen: list[Quote] = []
    seen_stems: list[set[str]] = []
    quoted: set[int] = set()  # passages quoted already
    floor = ranked[0].score - 0.9
    for c in ranked:
        if len(chosen) > MAX_POINTS or c.score < floor:
            break
        if c.hit in quoted:
            continue
        units = split_units(hits[c.hit].passage.text)
        indices = _whole(c, units, with_list=shape.listing)
        if indices is None:
            continue
        if shape.quantity and not chosen and not any(has_count(units[i].display) for i in indices) \
                and any(x.score >= c.score - 0.5 and has_count(x.unit.display) for x in ranked):
            continue  # a how-many question leads with a number when a unit nearly as good gives one
        q = _quote(c, indices, units)
        stems = set(stems_of(q.display)) if q is not None else set()
        if q is None or any(_overlaps(stems, s) for s in seen_stems):
            continue
        chosen.append(q)
        seen_stems.append(stems)
        quoted.add(c.hit)
    best_cov = max(c.lexical for c in candidates)
    best_sem = max(c.semantic for c in candidates)
    if not chosen:
        return Evidence(None, (), best_cov, best_sem)
    return Evidence(chosen[0], tuple(chosen[1:]), best_cov, best_sem)


def lead_for_part(hits: Sequence[Hit], candidates: list[Candidate], stems_of: Callable[[str], Sequence[str]],
                  shape: QuestionShape, shown: Sequence[Quote]) -> Quote | None:
    """The best whole unit for one question of several, or None when the answer quotes it
    already (or a unit that says the same): then the quotes shown answer that question too.
    As for a lead, a how-many question gets a unit with a number when one is nearly as good."""
    shown_units = {(q.hit, i) for q in shown for i in q.indices}
    shown_stems = [set(stems_of(q.display)) for q in shown]
    ranked = sorted(candidates, key=lambda c: c.score, reverse=True)
    if shape.quantity:
        ranked = sorted(ranked, key=lambda c: not (c.score >= ranked[0].score - 0.5 and has_count(c.unit.display)))
    for c in ranked[:3]:
        if (c.hit, c.index) in shown_units:
            return None
        units = split_units(hits[c.hit].passage.text)
        indices = _whole(c, units, with_list=True)
        if indices is None:
            continue  # a unit that cannot stand alone: the next best
        q = _quote(c, indices, units)
        if q is None or any((c.hit, i) in shown_units for i in indices) \
                or any(_overlaps(set(stems_of(q.display)), s) for s in shown_stems):
            return None
        return q
    return None


def with_parts(evidence: Evidence, parts: Sequence[tuple[str, Quote]], *, lead_part: str = "",
               missing: Sequence[str] = ()) -> Evidence:
    """The evidence with a unit for each later question (points quoted there drop out), the
    question the lead answers when it is not the first, and the questions left unanswered."""
    taken = {(q.hit, i) for _p, q in parts for i in q.indices}
    points = tuple(p for p in evidence.points if not taken & {(p.hit, i) for i in p.indices})
    return Evidence(evidence.lead, points, evidence.best_coverage, evidence.best_semantic, tuple(parts),
                    lead_part, tuple(missing))


def compose_parts(hits: Sequence[Hit], evidence: Evidence, *, texts: dict[str, str],
                  language: str) -> tuple[list[str], list[Citation]]:
    """The answer as pieces for streaming (they concatenate to the answer text) and its citations.

    `texts` holds the fixed phrases of the language (prompts/messages.toml): `lead` frames the
    lead, `more` the supporting points, `quoted` marks Dutch quotes in an English answer."""
    numbers: dict[int, int] = {}
    raw_quotes: dict[int, list[str]] = {}

    def cite(q: Quote) -> str:
        n = numbers.setdefault(q.hit, len(numbers) + 1)
        raw_quotes.setdefault(n, []).append(q.raw)
        # Old lessons are not current policy: say so where a quote is about the years before 2015.
        flag = f" ({texts['before_jeugdwet']})" if texts.get("before_jeugdwet") and before_jeugdwet(q.raw) else ""
        return f"[{n}]{flag}"

    def show(q: Quote) -> str:
        return f"“{q.display}”"  # a document's words always read as a quote, never as the assistant's

    parts: list[str] = []
    if evidence.lead is None:
        return parts, []
    lead = evidence.lead
    frame = texts.get("lead", "")
    if evidence.lead_part:  # the message's first question has no answer: say which one the lead answers
        frame = f"{frame} {texts.get('part', '{part}:').format(part=_short(evidence.lead_part))}".strip()
    parts.append(f"{frame} {show(lead)} {cite(lead)}" if frame else f"{show(lead)} {cite(lead)}")
    for question, q in evidence.parts:  # a message of several questions: each later one its own answer
        parts.append(f"\n\n{texts.get('part', '{part}:').format(part=_short(question))} {show(q)} {cite(q)}")
    for question in evidence.missing:  # and each one that no passage answers is named as such
        parts.append(f"\n\n{texts.get('missing', '{part}: –').format(part=_short(question))}")
    if evidence.points:
        parts.append(f"\n\n{texts.get('more', '')}".rstrip() + "\n")
        for i, q in enumerate(evidence.points):
            parts.append(f"- {show(q)} {cite(q)}" + ("\n" if i < len(evidence.points) - 1 else ""))
    citations = [Citation(n=n, passage=hits[h].passage, quote=" … ".join(dict.fromkeys(raw_quotes[n])))
                 for h, n in numbers.items()]
    return parts, citations


_JOINED = re.compile(r"^(?:en|of|maar|and|or|but)\s+(?=\S)", re.I)  # "… ? en wat is X?": the part is "wat is X"


def _short(question: str, limit: int = 90) -> str:
    """A question as the answer names it: at most `limit` characters, cut at a word."""
    question = _JOINED.sub("", " ".join(question.split()).rstrip("?").strip())
    return question if len(question) <= limit else question[:limit].rsplit(" ", 1)[0] + " …"


def before_jeugdwet(quote: str) -> bool:
    """True when a quote is about cases or events in the years before the Jeugdwet (2015); a
    literature reference such as "(Kohn et al., 1999)" is not such a year."""
    return bool(_BEFORE_JEUGDWET.search(_REFERENCE.sub("", quote)))


_REFERENCE = re.compile(r"\([^()]*\b(19|20)\d\d[a-z]?\)")
# A quote about cases or events in a year before the Jeugdwet took effect (1 January 2015).
_BEFORE_JEUGDWET = re.compile(r"\b(19[89]\d|200\d|201[0-4])\b(?![\-–]\s?(201[5-9]|202\d))")

"""Reports that the indexed documents mention, and which of their sentences are about which report.

Two sources name a mentioned report: the data file (`data/mentioned_reports.toml`: title, year,
publisher, aliases, author-year cites) and quoted titles after a report word ("het rapport ‘To Err
Is Human’ (Kohn et al., 1999)"), whose year and author come from the citation that follows.

Attribution is sentence by sentence, in reading order: a sentence that names reports is about them;
the following sentences stay about them while they refer back ("Het tweede rapport …", "Deze
rapportages …", "Uit de analyses …", "… met dit rapport"); a heading that names a report carries over
to the next paragraph; a new section, or a sentence that does not refer back, ends it.

    >>> index = MentionCatalogue.load(path).index(table.passages)
    >>> [table_passage.chunk_id for table_passage, _ in index.passages_about("leren-van-calamiteiten-2013")]
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigurationError
from .types import Passage

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "mentioned_reports.toml"

_SENT_END = re.compile(r"(?<=[.!?])[”\"’')]*\s+(?=[A-Z\u00C0-\u024F“‘\"'(\[0-9•])")
_QUOTED_TITLE = re.compile(
    r"\b(?:rapport(?:en|age|ages)?|inspectierapport|publicatie|getiteld)\s+(?:van\s+\w+\s+|over\s+)?\(?\s*"
    r"[“‘\"]([A-Z][^”’\"“‘]{3,158})[”’\"]"
    r"(?:\s*[(;]\s*([^()]{2,80}?),\s*((?:19|20)\d\d))?")
_REFERS_BACK_START = re.compile(
    r"^(?:\w+\s+)?(?:de|deze|dit|het|die|dat)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:rapport|publicatie|analyse|onderzoek|calamiteit|casus|inspecties|vervolgrapport)", re.I)
_REFERS_BACK_ANY = re.compile(
    r"\b(?:(?:dit|deze|het|dat|de\s+(?:vorige|eerdere|eerste|tweede))\s+(?:[\w-]+\s+)?"
    r"(?:rapport|rapportage|vervolgrapport|publicatie)|hierbij|hiermee|hierin|daarin|daarbij|daarmee)\b", re.I)
_PRONOUN_START = re.compile(r"^(?:het|dit|deze|zij|ze)\s+(?:heeft|hebben|bevat|bevatten|beschrijft|beschrijven|noemt|"
                            r"noemen|richt|richten|stelt|stellen|doet|doen|geeft|geven)\b", re.I)
_CONTINUES = re.compile(
    r"^(?:\w+\s+){0,2}?(?:verbeterpunten|aanbevelingen|rode draden|lessen|conclusies|bevindingen)\b", re.I)


def loose(text: str) -> str:
    """Lowercase, accents folded, everything but letters and digits as single spaces."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _folded(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def sentence_spans(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, starts_paragraph) of each sentence, as offsets into the text (quotes stay verbatim)."""
    out: list[tuple[int, int, bool]] = []
    for para in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]*)*", text):
        start, first = para.start(), True
        for m in _SENT_END.finditer(para.group()):
            end = para.start() + m.start()
            if text[start:end].strip():
                out.append((start, end, first))
                first = False
            start = para.start() + m.end()
        if text[start:para.end()].strip():
            out.append((start, para.end(), first))
    return out


@dataclass(frozen=True)
class MentionedReport:
    """A report named in the documents; `source` says where its fields come from."""

    id: str
    title: str
    year: int | None
    publisher: str
    doc_type: str
    aliases: tuple[str, ...] = ()
    cites: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Sentence:
    """One sentence of a passage and the mentioned reports it is about (`direct`: named in it)."""

    chunk_id: str
    start: int
    end: int
    reports: frozenset[str]
    direct: frozenset[str]


@dataclass
class MentionIndex:
    """Every sentence of every passage with its reports; the reports themselves, data and detected."""

    reports: dict[str, MentionedReport]
    sentences: dict[str, list[Sentence]] = field(default_factory=dict)
    passages: dict[str, Passage] = field(default_factory=dict)

    def passages_about(self, report_id: str) -> list[tuple[Passage, list[Sentence]]]:
        """Passages with sentences about the report, in reading order, with those sentences."""
        out = []
        for cid, sents in self.sentences.items():
            about = [s for s in sents if report_id in s.reports]
            if about:
                out.append((self.passages[cid], about))
        return out

    def reports_in(self, chunk_id: str) -> set[str]:
        """Ids of the mentioned reports a passage says something about."""
        return {r for s in self.sentences.get(chunk_id, []) for r in s.reports}


class MentionCatalogue:
    """The data file's reports with their compiled aliases and cites."""

    def __init__(self, reports: list[MentionedReport]) -> None:
        self.reports = {r.id: r for r in reports}
        self._aliases = [(r.id, re.compile(rf"(?<![a-z0-9]){re.escape(loose(a))}(?![a-z0-9])"))
                         for r in reports for a in r.aliases if loose(a)]
        self._cites = [(r.id, re.compile(r"[(;]\s*" + r"\s*".join(map(re.escape, _folded(c).split())) + r"\s*[;)]"))
                       for r in reports for c in r.cites]
        self._titles = {loose(t): r.id for r in reports for t in (r.title, *r.aliases)}

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> MentionCatalogue:
        """Read the data file; a malformed file is a ConfigurationError naming it."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            reports = [MentionedReport(id=r["id"], title=r["title"], year=int(r["year"]) if r.get("year") else None,
                                       publisher=r.get("publisher", ""), doc_type=r.get("doc_type", "rapport"),
                                       aliases=tuple(r.get("aliases", [])), cites=tuple(r.get("cites", [])),
                                       source=r.get("source", f"{path.name}"))
                       for r in data.get("report", [])]
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as e:
            raise ConfigurationError(f"mentioned-reports file {path} cannot be read ({e})") from e
        return cls(reports)

    def named_in(self, sentence: str, found: dict[str, MentionedReport], passage: Passage) -> set[str]:
        """Ids of the reports a sentence names; quoted titles not in the data file are added to `found`."""
        ids = {rid for rid, p in self._aliases if p.search(loose(sentence))}
        folded = _folded(sentence)
        ids |= {rid for rid, p in self._cites if p.search(folded)}
        for m in _QUOTED_TITLE.finditer(sentence):
            title = m.group(1).strip()
            key = loose(title)
            if key in self._titles:
                ids.add(self._titles[key])
                continue
            rid = "vermeld-" + "-".join(key.split()[:10])
            if rid not in found:
                year = int(m.group(3)) if m.group(3) else None
                found[rid] = MentionedReport(
                    id=rid, title=title, year=year, publisher=(m.group(2) or "").strip(), doc_type="rapport",
                    source=f"quoted title and citation in passage {passage.chunk_id} ({passage.title}, "
                           f"p. {passage.page_label})")
            ids.add(rid)
        return ids

    def index(self, passages: list[Passage]) -> MentionIndex:
        """Attribute every sentence of the passages (in reading order) to the reports it is about."""
        found: dict[str, MentionedReport] = {}
        out = MentionIndex(reports={})
        context: set[str] = set()
        last_doc, last_section, heading_names = None, None, False
        for p in passages:
            if p.doc_id != last_doc or p.section != last_section:
                context, heading_names = set(), False
            last_doc, last_section = p.doc_id, p.section
            sents: list[Sentence] = []
            for start, end, new_para in sentence_spans(p.text):
                s = p.text[start:end]
                named = self.named_in(s, found, p)
                if named:
                    context = set(named)
                elif not (_REFERS_BACK_START.search(s) or _REFERS_BACK_ANY.search(s) or _CONTINUES.search(s)
                          or _PRONOUN_START.search(s)
                          or (new_para and heading_names)):
                    context = set()
                heading_names = bool(named) and _is_heading(s)
                sents.append(Sentence(p.chunk_id, start, end, frozenset(context), frozenset(named)))
            out.sentences[p.chunk_id] = sents
            out.passages[p.chunk_id] = p
        out.reports = {**found, **self.reports}
        return out


def _is_heading(sentence: str) -> bool:
    s = sentence.strip()
    return len(s.split()) <= 12 and not s.endswith((".", "?", "!", ":", ";"))

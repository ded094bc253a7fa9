"""Session packs for regional learning sessions: a theme, what the reports say about it (cited
quotes), what goes well and what goes wrong (sorted by cue words from prompts/pack_cues_nl.txt),
and reflection questions from prompts/pack_questions_nl.txt, each marked as a suggestion and tied
to a cited sentence. Rendering to Markdown and HTML is in render.py.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote as urlquote

from retriever.errors import ConfigurationError
from retriever.mentions import MentionedReport, loose, sentence_spans
from retriever.themes import Theme
from retriever.types import Filters, Passage

from .browse import ThemeBrowser

JEUGDWET_YEAR = 2015
CUES_FILE = "pack_cues_nl.txt"
QUESTIONS_FILE = "pack_questions_nl.txt"


def read_sections(path: Path) -> dict[str, list[str]]:
    """A `[section]` / one-entry-per-line file ('#' comments) as section → lines."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigurationError(f"session-pack template {path} cannot be read ({e})") from e
    out: dict[str, list[str]] = {}
    current = None
    for line in (x.strip() for x in lines):
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = out.setdefault(line[1:-1].strip(), [])
        elif current is not None:
            current.append(line)
    return out


class CueClassifier:
    """Sorts a sentence into 'goed', 'mis' or '' by its cue words: negated 'goed' cues count as 'mis',
    and a sentence naming a problem is 'mis' unless it has more than twice as many 'goed' cues."""

    def __init__(self, sections: dict[str, list[str]]) -> None:
        def alternatives(section: str) -> str:
            words = {(loose(w.rstrip("$")), w.endswith("$")) for w in sections.get(section, []) if loose(w.rstrip("$"))}
            ordered = sorted(words, key=lambda x: -len(x[0]))
            alts = [re.escape(w) + (r"(?![a-z0-9])" if whole else "") for w, whole in ordered]
            return "|".join(alts) or r"(?!x)x"

        good, bad, neg = alternatives("goed"), alternatives("mis"), alternatives("ontkenning")
        self.good = re.compile(rf"(?<![a-z0-9])(?:{good})")
        self.bad = re.compile(rf"(?<![a-z0-9])(?:{bad})")
        self.negated_good = re.compile(rf"(?<![a-z0-9])(?:{neg})\s+(?:[a-z0-9]+\s+)?(?:{good})")

    def __call__(self, sentence: str) -> str:
        text = loose(sentence)
        negated = len(self.negated_good.findall(text))
        good = len(self.good.findall(text)) - negated
        bad = len(self.bad.findall(text)) + negated
        # A problem named in a sentence outweighs a passing "goed": "ontbreekt ... goede hulp" is 'mis'.
        return "mis" if bad and 2 * bad >= good else "goed" if good > 0 else ""


@dataclass(frozen=True)
class Source:
    """A numbered source of the pack: the passage, and the reports it reports on."""

    n: int
    passage: Passage
    about: tuple[MentionedReport, ...] = ()

    def link(self, base_url: str) -> str:
        """Where the web page opens this passage."""
        return f"{base_url.rstrip('/')}/?passage={urlquote(self.passage.chunk_id, safe='')}"

    @property
    def pre_jeugdwet(self) -> bool:
        """True when the document, or every report it reports on, is from before the Jeugdwet (2015)."""
        years = [r.year for r in self.about if r.year] or [self.passage.year or JEUGDWET_YEAR]
        return max(years) < JEUGDWET_YEAR


@dataclass(frozen=True)
class Quote:
    """A sentence quoted verbatim from a source, and how the cue words sort it."""

    text: str
    source: Source
    tone: str = ""


@dataclass(frozen=True)
class Question:
    """A reflection question (a suggestion), with the quote it asks about (None for the closing one)."""

    text: str
    quote: Quote | None = None


@dataclass
class SessionPack:
    """Everything a session pack shows; render.py turns it into Markdown or HTML."""

    theme: Theme
    filters: Filters
    generated: dt.date
    base_url: str
    sources: list[Source] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    went_well: list[Quote] = field(default_factory=list)
    went_wrong: list[Quote] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)


class PackBuilder:
    """Builds session packs from the theme browser and the templates in the prompts folder."""

    def __init__(self, browser: ThemeBrowser, prompts_dir: Path, *, max_quotes: int = 12, max_each: int = 5) -> None:
        self.browser = browser
        self.prompts_dir = prompts_dir
        self.max_quotes = max_quotes
        self.max_each = max_each

    def build(self, theme: Theme, filters: Filters, *, base_url: str = "", today: dt.date | None = None) -> SessionPack:
        """The pack for one theme: quotes from every tagged passage (up to max_quotes), sorted by tone."""
        classify = CueClassifier(read_sections(self.prompts_dir / CUES_FILE))
        templates = read_sections(self.prompts_dir / QUESTIONS_FILE)
        pack = SessionPack(theme, filters, today or dt.date.today(), base_url)
        for tp in self.browser.passages(theme, filters, quotes=False)[: self.max_quotes]:
            source = Source(len(pack.sources) + 1, tp.passage, tp.about)
            pack.sources.append(source)
            quote = self.browser.quote_for(theme, tp.passage.text)
            if quote:
                pack.quotes.append(Quote(quote, source, classify(quote)))
        # Round robin over the sources, so one long passage cannot fill a section on its own.
        per_source = [self._toned_sentences(theme, source, classify) for source in pack.sources]
        for rank in range(max(map(len, per_source), default=0)):
            for quotes in per_source:
                if rank < len(quotes):
                    quote = quotes[rank]
                    target = pack.went_well if quote.tone == "goed" else pack.went_wrong
                    if len(target) < self.max_each and quote.text not in {q.text for q in target}:
                        target.append(quote)
        pack.questions = self._questions(theme, pack, templates)
        return pack

    def _toned_sentences(self, theme: Theme, source: Source, classify: CueClassifier) -> list[Quote]:
        """Sentences of a source that carry the theme and have a tone, strongest theme signal first."""
        text, scored = source.passage.text, []
        for start, end, _new in sentence_spans(text):
            sentence = " ".join(text[start:end].split())
            tone = classify(sentence) if len(sentence.split()) >= 6 else ""
            points = self.browser.tagger.scores(sentence).get(theme.id, 0)
            if tone and points:
                scored.append((points, Quote(sentence, source, tone)))
        return [q for _p, q in sorted(scored, key=lambda x: -x[0])]

    def _questions(self, theme: Theme, pack: SessionPack, templates: dict[str, list[str]]) -> list[Question]:
        def fill(section: str, i: int, q: Quote | None) -> Question | None:
            lines = templates.get(section, [])
            if not lines:
                return None
            fields = {"theme": theme.title}
            if q is not None:
                p = q.source.passage
                short = q.text if len(q.text) <= 160 else q.text[:157].rsplit(" ", 1)[0] + " …"
                fields |= {"quote": short, "ref": str(q.source.n), "title": p.title, "year": str(p.year or "z.j."),
                           "page": p.page_label}
            try:
                return Question(lines[i % len(lines)].format(**fields), q)
            except (KeyError, IndexError, ValueError) as e:
                raise ConfigurationError(
                    f"question template in {QUESTIONS_FILE} uses an unknown placeholder ({e})") from e

        wanted = [("algemeen", q) for q in pack.quotes[:2]] + [("goed", q) for q in pack.went_well[:2]] + \
                 [("mis", q) for q in pack.went_wrong[:2]]
        seen: dict[str, int] = {}
        out = []
        for section, q in wanted:
            question = fill(section, seen.get(section, 0), q)
            seen[section] = seen.get(section, 0) + 1
            if question:
                out.append(question)
        if pack.sources:
            closing = fill("afsluiting", 0, None)
            if closing:
                out.append(closing)
        return out

"""A question, analysed once: language, tokens, glossary expansion, the text the model embeds,
IDF weights of its stems and what kind of answer it asks for. Search and the answer layer both
read this one object instead of each tokenising, expanding and detecting the language again.

    >>> q = searcher.analyse("hoeveel calamiteiten werden er onderzocht?")
    >>> q.language, q.kind.quantity, sorted(q.own)
    ('nl', True, ['calamiteit', 'onderzocht'])
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from .derived import DerivedState
from .glossary import Expansion, Glossary, detect_language
from .normalise import fold
from .keyword import KeywordIndex

# A question that asks for a count or an amount of time (not one that only mentions "het aantal meldingen").
_QUANTITY_Q = re.compile(r"\b(hoeveel|how many|how much|percentage|hoe vaak|how often|fte|hoe\s*lang|how long)\b",
                         re.I)
_YES_NO = re.compile(r"^(is|zijn|was|waren|kan|kun|kunnen|moet|moeten|mag|mogen|heeft|hebben|had|wordt|worden|"
                     r"werd|gaat|gaan|klopt|bestaat|zit|zitten|doet|doen|does|do|did|is|are|was|were|can|could|"
                     r"should|has|have|had|will|would)\b", re.I)
_LISTING = re.compile(r"\b(welke|noem|opsomming|wat (zijn|waren) (de|het)|which|what (are|were) the|list|name the|"
                      r"factoren|punten|aanbevelingen|lessen|recommendations|factors|points|lessons)\b", re.I)
_DATE_Q = re.compile(r"\b(wanneer|welk jaar|in welk jaar|sinds wanneer|vanaf wanneer|datum|when|what year|which year|"
                     r"since when|date)\b", re.I)
_DEFINITION_Q = re.compile(r"\b(definitie|definieer|betekenis|betekent|wat (is|zijn) (een |de |het )?|wordt .*verstaan|"
                           r"what (is|are) (a |an |the )?|define|definition|meaning)\b", re.I)
# The words that frame a definition question, not the term it asks about.
_DEFINITION_FRAME = "definitie definieer betekenis officiele precies definition meaning define"


# A message asks several questions when it has several sentences ending in "?" (informal users
# often do: "waarom X? en hoe Y?"); a short tail ("of niet?") is not a question of its own.
_PART_END = re.compile(r"(?<=\?)\s+(?=\S)")
_PART_WORDS = 4
_MAX_PARTS = 3


# A later question that leans on the one before ("what was the point of them?") is read with it.
_WORDS = re.compile(r"[a-z0-9]+")
_REQUEST = re.compile(r"^\W*(graag|liefst|bij voorkeur|svp|a\.u\.b|noem|geef|zet|kort|please|list|give|name|"
                      r"in short|briefly)\b", re.I)
_LEANS = re.compile(r"\b(them|they|it|its|these|those|their|hun|hen|ze|zij|ervan|erover|ermee|erbij|daarvan|daarover|"
                    r"daarmee|daarbij|daarin)\b", re.I)


@dataclass(frozen=True)
class QuestionPart:
    """One question of a message that asks several: its words, and what it is read as (with the
    question before it when it refers back to it)."""

    text: str
    reads_as: str


def question_parts(text: str) -> tuple[QuestionPart, ...]:
    """The questions of a message that asks more than one, in order; () for a single question.
    A request after a question ("graag de aanbevelingen op een rij") refines it, and stays with it."""
    parts: list[str] = []
    for p in _PART_END.split(text.strip()):
        if parts and _REQUEST.match(p):
            parts[-1] = f"{parts[-1]} {p.strip()}"
        elif len(p.split()) >= _PART_WORDS:
            parts.append(p.strip())
    parts = parts[:_MAX_PARTS]
    if len(parts) < 2:
        return ()
    return tuple(QuestionPart(p, f"{parts[i - 1]} {p}" if i and _leans_back(p) else p) for i, p in enumerate(parts))


def _leans_back(part: str) -> bool:
    """A question that needs the one before it: it points back ("them", "ermee"), or it names
    too little of its own ("welk rapport was dat?", "zijn daar voorbeelden van?")."""
    return bool(_LEANS.search(part)) or len(set(KeywordIndex.analyse(_WORDS.findall(fold(part))))) < 3


def asks_for_quantity(question: str) -> bool:
    """True for "hoeveel …", "how many …", "hoe lang …": the answer is a number."""
    return bool(_QUANTITY_Q.search(question))


@dataclass(frozen=True)
class QuestionShape:
    """What kind of answer the question asks for, from its words."""

    quantity: bool = False
    date: bool = False
    definition: frozenset[str] = frozenset()  # stems of the defined term
    listing: bool = False
    yes_no: bool = False


def question_shape(text: str, stems: tuple[str, ...] = ()) -> QuestionShape:
    """The shape of the answer a question asks for; `stems` are the question's own stems (for
    "wat is een X?" the stems of X become `definition`)."""
    q = text.strip()
    definition: frozenset[str] = frozenset()
    if _DEFINITION_Q.search(q):
        frame = set(KeywordIndex.analyse(_DEFINITION_FRAME.split()))
        definition = frozenset(s for s in stems if s not in frame)
    return QuestionShape(quantity=asks_for_quantity(q), date=bool(_DATE_Q.search(q)), definition=definition,
                         listing=bool(_LISTING.search(q)), yes_no=bool(_YES_NO.match(q)))


@dataclass(frozen=True)
class Question:
    """One question as search and answering see it.

    `own`: IDF of the question's stems (stems the reports never use get the highest IDF, half
    of it for a compound of known words); `extra`: IDF of the expansion's stems that are not
    the question's own; `unknown`: stems the reports never use, not even with a typo's difference."""

    text: str
    language: str
    tokens: tuple[str, ...]
    expansion: Expansion
    dense_text: str
    stems: tuple[str, ...]
    own: dict[str, float] = field(hash=False, compare=False)
    extra: dict[str, float] = field(hash=False, compare=False)
    unknown: frozenset[str]
    shape: QuestionShape
    parts: tuple[QuestionPart, ...] = ()  # the questions of a message that asks several

    @property
    def known(self) -> dict[str, float]:
        """IDF of the question's stems that the reports use."""
        return {s: w for s, w in self.own.items() if s not in self.unknown}

    @property
    def unknown_share(self) -> float:
        """How much of the question's weight lies on words the reports never use."""
        total = sum(self.own.values())
        return sum(self.own[s] for s in self.unknown) / total if total else 0.0


def dense_text(text: str, expansion: Expansion) -> str:
    """The text embedded for a question: an English question gets its Dutch domain terms added."""
    return f"{text} ({', '.join(expansion.dutch)})" if expansion.dutch else text


class QuestionAnalyser:
    """Analyses questions against the current keyword index; recent ones are kept (a question is
    searched, then answered, and suggested questions come back)."""

    def __init__(self, glossary: Glossary, derived: DerivedState, *, cache_size: int = 2048) -> None:
        self.glossary = glossary
        self.normaliser = glossary.normaliser
        self.derived = derived
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], Question] = OrderedDict()
        self._lock = threading.Lock()

    def analyse(self, text: str) -> Question:
        """The analysis of `text` (from the cache when this index generation saw it before)."""
        table = self.derived.table()
        key = (table.generation, text)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        question = self._analyse(text, table.keyword)
        with self._lock:
            self._cache[key] = question
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return question

    def _analyse(self, text: str, keyword: KeywordIndex) -> Question:
        language = detect_language(text)
        tokens = tuple(self.normaliser.tokens(text))
        expansion = self.glossary.expand(text, language=language)
        own = keyword.idf(tokens)
        unknown = {s for s, w in own.items() if w == 0.0 and not keyword.known(s)}
        for s in unknown:
            own[s] = keyword.max_idf * (0.5 if keyword.compound_part(s) else 1.0)
        extra = keyword.idf(" ".join(expansion.terms).split()) if expansion.terms else {}
        stems = tuple(KeywordIndex.analyse(tokens))
        return Question(text=text, language=language, tokens=tokens, expansion=expansion,
                        dense_text=dense_text(text, expansion), stems=stems, own=own,
                        extra={k: v for k, v in extra.items() if k not in own}, unknown=frozenset(unknown),
                        shape=question_shape(text, stems), parts=question_parts(text))

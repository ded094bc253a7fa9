"""When the evidence cannot answer: the rules behind an honest "that is not in the reports".

Each rule asks what a question needs and whether a passage near it has it: a unit close in
meaning, the words it hinges on, the year it names, or the kind of sentence only it can be
answered by (a count, a duration, an amount of money, a fine, a date). Thresholds are calibrated
on the tune fold of the dev set.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from retriever.question import Question
from retriever.terms import TermStatistics
from retriever.types import Hit
from retriever.units import split_units

from .evidence import coverage, has_count, has_quantity, quantity_measures, split_sentences
from .extractive import Evidence

_YEAR = re.compile(r"\b(?:19[5-9]\d|20[0-4]\d)\b")
_PEOPLE = {"mensen", "personen", "people", "persons", "individuals"}
_FEW = ("een|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|enkele|paar|a few|one|two|three|four|five|"
        "six|seven|eight|nine|ten|several")
_DURATION = re.compile(rf"\b(\d+|{_FEW})(\s*(-|–|tot|to|à)\s*\d+)?\s*(dag|dagen|werkdag|werkdagen|week|weken|maand|"
                       r"maanden|jaar|jaren|uur|uren|kwartaal|minuut|minuten|min|seconden|days?|working days?|weeks?|"
                       r"months?|years?|hours?|minutes?|seconds?)\b", re.I)


@dataclass(frozen=True)
class Slot:
    """What a question asks for that only a specific kind of sentence can give: how the question
    asks for it, what a sentence that gives it looks like, and whether it is a quantity (held
    to the quantity coverage of the policy, like a count)."""

    name: str
    asked: re.Pattern
    filled: re.Pattern
    quantity: bool = False


_SLOTS = (
    Slot("amount of money", re.compile(r"\b(gekost|kosten|kost|budget|geld|euro|bedrag|subsidie|cost|costs|money|budget|"
                                   r"funding|paid|price)\b", re.I),
     re.compile(r"(€|\beuro\b|\bmiljoen\b|\bbudget\b|\bkosten\b)", re.I)),
    Slot("fine or sanction", re.compile(r"\b(boete|boetes|sanctie|sancties|straf|fine|fines|penalty|penalties|sanction)\b",
                                    re.I),
     re.compile(r"\b(boete|boetes|sanctie|sancties|last onder dwangsom|bestuurlijke|aanwijzing|straf)\w*", re.I)),
    # "wanneer moet …" and "wanneer is er sprake van …" ask for a condition, not a date
    Slot("date", re.compile(r"^\W*(wanneer|when)\s+(did|was|were|is(?! er sprake)|are|has|have|does|do|will|heeft|hebben|"
                        r"werd|werden|zijn(?! er sprake)|waren|kwam|komt|gaat|ging)\b|\b(welke datum|op welke dag|sinds wanneer|vanaf wanneer|in welk jaar|"
                        r"what date|since when|in what year|which year)\b", re.I),
     re.compile(r"\b(\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|"
                r"december)|(19|20)\d\d)\b", re.I)),
    # how long something took or takes: only a number of days, weeks, … gives it. Waiting or lead
    # times count only when the question asks what they are ("hoe pakt u de wachttijden aan?" asks
    # for measures, not for a duration)
    Slot("duration", re.compile(r"\b(hoe\s*lang|hoeveel tijd|how long|how much time|"
                            r"(wat|hoe groot|hoe hoog) (is|zijn|was|waren) de (gemiddelde )?(wachttijd|wachttijden|doorlooptijd|doorlooptijden)|"
                            r"what (is|are|was|were) the (average )?(waiting|lead) times?)\b", re.I), _DURATION, quantity=True),
    # a deadline is given by a period ("binnen drie dagen") or a word for "at once"
    Slot("deadline", re.compile(r"\b(termijn|termijnen|deadline|deadlines|uiterlijk|binnen hoeveel|hoe snel|hoe vlug|"
                            r"within how many|how soon|how quickly|time limit)\b", re.I),
     re.compile(rf"{_DURATION.pattern}|\b(onverwijld|onmiddellijk|direct|meteen|zo snel mogelijk|zo spoedig mogelijk|"
                r"zonder uitstel|immediately|without delay|as soon as possible)\b", re.I)),
    # a share is given by a percentage or a proportion ("één op de negen", "de helft")
    Slot("percentage", re.compile(r"\b(percentage|procent|percent|what proportion|what fraction)\b", re.I),
     re.compile(r"%|\b(procent|percent|helft|kwart|derde|meerderheid|minderheid|half|quarter|third|majority|minority)\b|"
                r"\b(\d+|[eé]{2}n|one|twee|two|drie|three|vier|four|vijf|five|tien|ten)\s+(op|in|van|out of)\s+(de\s+|the\s+|every\s+)?"
                r"(\d+|\w+)\b", re.I), quantity=True),
    # who holds a post is answered by a person's name ("Van der Laan", "J. de Vries", "Maria Jansen")
    Slot("person's name", re.compile(r"\b(wie (is|was|zijn|waren) (de|het|hun|onze)?\s*(directeur|voorzitter|minister|"
                                 r"staatssecretaris|wethouder|burgemeester|inspecteur-generaal|hoofdinspecteur|bestuurder|"
                                 r"auteur|auteurs|woordvoerder)|hoe heet|hoe heten|wat is de naam|"
                                 r"who (is|was|are|were) the (director|chair|chairman|chairwoman|minister|state secretary|"
                                 r"alderman|mayor|inspector general|head|author|authors|spokesperson)|what is the name|"
                                 r"what's the name)\b", re.I),
     re.compile(r"\b(?:[A-Z]\.\s*)+(?:(?:van|de|der|den|ter|ten)\s+)*[A-Z][a-z]+|"
                r"\b[A-Z][a-z]+\s+(?:(?:van|de|der|den|ter|ten)\s+)*[A-Z][a-z]{2,}|\b(?:[Vv]an (?:der |den |de )?|[Dd]e )[A-Z][a-z]+")),
    # contact details are given by a number, an address or an e-mail address
    Slot("contact details", re.compile(r"\b(telefoonnummer|e-?mailadres|adres|bereikbaar|contactgegevens|phone number|"
                                   r"e-?mail address|contact details)\b", re.I),
     re.compile(r"@|\b0\d{1,3}[- ]?\d{6,8}\b|\b\d{4}\s?[A-Z]{2}\b|\bpostbus\b", re.I)),
)


# Values a question can state itself: digits, years and number words other than the article.
_VALUE = re.compile(r"\b\d[\d.,]*\b|\b(twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|twintig|dertig|veertig|"
                    r"vijftig|honderd|duizend|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
                    r"thirty|forty|fifty|hundred|thousand)\b", re.I)


# A name inside a sentence: capitalised words not after a sentence's end ("Savanna", "Jeugdzorg
# Nederland") or an abbreviation ("OVV"). A report's title: quoted words of two or more after a
# word for a report ("het rapport ‘Het bewijs ligt op tafel’"); other quoted words are often the
# user's own scare quotes, not a title.
_NAME = re.compile(r"(?<![.!?:;]\s)(?<=\s)((?:[A-Z][\w'’-]*)(?:\s+[A-Z][\w'’-]*)*)\b")
_QUOTED = re.compile(r"\b(?:rapport|rapportage|rapporten|report|reports|onderzoek|study|publicatie|publication|brief|"
                     r"letter|titel|title|getiteld|titled|called|genaamd|heet)(?:\s+[\w-]+){0,3}?\s+[‘“\"']([^‘’“”\"'\s][^‘’“”\"']{2,80}\s[^‘’“”\"']{0,79}[^‘’“”\"'\s])[’”\"'](?=[\s.,;:?!)]|$)")


def _given_values(question: str) -> frozenset[str]:
    """The numbers and years a question states itself, lowercased."""
    return frozenset(m.group(0).lower().rstrip(".,") for m in _VALUE.finditer(question))


def _without(text: str, values: frozenset[str]) -> str:
    """The text with the given values taken out, so that it only fills a slot with a value of its own."""
    if not values:
        return text
    return _VALUE.sub(lambda m: " " if m.group(0).lower().rstrip(".,") in values else m.group(0), text)


@dataclass(frozen=True)
class AbstainPolicy:
    """When the evidence is too weak to answer (calibrated on the dev set; see README)."""

    min_semantic: float = 0.80
    min_semantic_en: float = 0.78
    min_slot_coverage: float = 0.35
    max_unknown_share: float = 0.75
    min_quantity_coverage: float = 0.30
    # an inflection or compound part the stemmer left apart ("overzichtsrapport" ~ "rapport") counts
    # half towards a slot's coverage: a sentence with the number should not fail on morphology
    related_weight: float = 0.5
    passages: int = 5


class AbstentionRules:
    """The abstention rules over one policy and the index's term statistics."""

    def __init__(self, policy: AbstainPolicy, terms: TermStatistics) -> None:
        self.policy = policy
        self.terms = terms

    def weakness(self, q: Question, ev: Evidence, diag: dict) -> str:
        """Why the evidence cannot answer the message at all ("" when it can)."""
        floor = self.policy.min_semantic_en if q.language == "en" else self.policy.min_semantic
        if ev.lead is None:
            return "no whole unit to quote"
        if diag["semantic"] < floor:
            return "no passage close in meaning"
        if q.language == "nl" and diag["unknown_share"] >= self.policy.max_unknown_share:
            return "the question hinges on words the reports never use"
        return ""

    def unknown_name(self, question: str, hits: list[Hit]) -> str:
        """A name the question gives that the reports do not have, or "": a capitalised word or an
        abbreviation inside a sentence that the reports never use and the glossary does not know,
        or a quoted title that no passage found for the question holds word for word."""
        for m in _NAME.finditer(question):
            own, expansion, unknown = self.terms.term_weights(m.group(1))
            if own and not expansion and len(unknown) * 2 > len(own):
                return m.group(1)
        tokens = self.terms.normaliser.tokens
        for m in _QUOTED.finditer(question):
            title = " ".join(tokens(m.group(1)))
            if title and not any(title in " ".join(tokens(f"{h.passage.title} {h.passage.text}")) for h in hits):
                return m.group(1)
        return ""

    def unmet(self, q: Question, hits: list[Hit], diag: dict, asks: Question | None = None) -> str:
        """What the question asks for that no passage near it gives ("" when one does). Each rule
        asks what the question needs and whether a passage near it has it, not what these
        questions say. `asks`: the words that say what is asked, where `q` reads a question of a
        message together with the one before it ("welke boete …? en wat is X?": X asks for no fine)."""
        asks = asks or q
        question, language = asks.text, q.language
        name = self.unknown_name(question, hits)
        if name:
            diag["unknown_name"] = name
            return "the question names something the reports never mention"
        near = hits[: self.policy.passages]
        years = set(_YEAR.findall(question))
        if years:
            text = " ".join(h.passage.text for h in near)
            diag["years"] = all(y in text for y in years)
            if not diag["years"]:
                return "a year the question names is in no passage near it"
        # a unit and the one before it (a window, as search embeds them): "Dat kan negen maanden
        # duren." answers on the strength of the sentence that says what "dat" is
        units = [(u, f"{units[i - 1].display} {u}" if i else u) for h in near
                 for units in [split_units(h.passage.text)] for i, u in enumerate(x.display for x in units)]
        weights = q.extra if language == "en" else q.known  # English words are unknown to the Dutch index
        given = _given_values(question)

        def best_filled(has) -> float:
            # a number or year the question states itself is not the one it asks for ("how many of the
            # eleven cases …", "when was the 2013 report sent?")
            return max((coverage(set(self.terms.stems(ctx)), weights, {}, related_weight=self.policy.related_weight) for u, ctx in units
                        if has(_without(u, given))), default=0.0)

        for slot in _SLOTS:
            if slot.asked.search(question):
                diag[slot.name] = best = best_filled(slot.filled.search)
                floor = self.policy.min_quantity_coverage if slot.quantity else self.policy.min_slot_coverage
                if best < floor:
                    return f"no passage near the question gives the {slot.name} it asks for"
        if asks.shape.quantity:
            diag["quantity"] = best_filled(has_quantity)
            if diag["quantity"] < self.policy.min_quantity_coverage:
                return "no passage near the question gives the number it asks for"
            if not self.counts_found(question, hits, given):
                return "no number near the question counts what it asks about"
        return ""

    def counts_found(self, question: str, hits: list[Hit], given: frozenset[str] = frozenset()) -> bool:
        """For "how many X": some sentence with a number among the best passages names X (or its
        Dutch equivalent). A thing the reports have no word for ("FTE") is never counted there."""
        measures = quantity_measures(question)
        if not measures:
            return True

        def known(text: str) -> set[str]:
            own, extra, unknown = self.terms.term_weights(text)
            return {s for s in own if s not in unknown} | {s for s, w in extra.items() if w > 0}

        numbered = [set(self.terms.stems(s)) for h in hits[: self.policy.passages]
                    for s in split_sentences(h.passage.text) if has_quantity(_without(s, given))]
        for lead, thing in measures:
            if thing.lower() in _PEOPLE:
                # "how many people": any count of persons answers it (deelnemers, professionals, …)
                if any(has_count(_without(s, given)) for h in hits[: self.policy.passages]
                       for s in split_sentences(h.passage.text)):
                    return True
                continue
            stems = known(f"{lead} {thing}") - known(lead)
            if stems and any(stems & sent for sent in numbered):
                return True
        return False

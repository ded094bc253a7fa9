"""Questions in, cited answers out: condense, retrieve, decide to abstain, write, verify.

    >>> answerer = Answerer(searcher, terms=TermStatistics(searcher.questions), prompts=PromptLibrary(Path("prompts")))
    >>> a = answerer.answer("wat ging er mis bij opschalen?")
    >>> a.text, [c.passage.page_label for c in a.citations]
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from retriever.glossary import detect_language
from retriever.question import Question, QuestionPart
from retriever.terms import TermStatistics
from retriever.types import Answer, Citation, Filters, Hit, Searcher

from .abstain import AbstainPolicy, AbstentionRules
from .bounds import STANDALONE_CHARS, analysis_text, bounded_history
from .evidence import split_sentences, supported
from .extractive import Evidence, Quote, compose_parts, lead_for_part, score_units, select_evidence, with_parts
from .prompts import PromptLibrary

_FOLLOW_UP = re.compile(r"^(en|maar|ook|dus|and|but|also|what about|hoe zit het|en bij|en in|waarom|why|wat (nog|meer)"
                        r"|welke nog|hoezo|daar|dat|die|dit|deze|dan|they|it|this|that|those)\b", re.I)
_CITE = re.compile(r"\[(\d{1,2})\]")
# where streamed answer text is cut into pieces: after a blank line, a sentence or a citation marker
_CUT = re.compile(r"\n\n+|(?<=[\].!?]) +(?=\S)")
# "Zin. [1] Volgende zin." -> "Zin [1]. Volgende zin.": a marker after the full stop belongs to the sentence before it
_MARKER_AFTER_STOP = re.compile(r"(?<=\S)([.!?]+)((?:\s*\[\d{1,2}\])+)")


@dataclass(frozen=True)
class Turn:
    """One earlier message in the conversation."""

    role: str  # user | assistant
    content: str


class LLMBudget:
    """The LLM time of one request: its clock starts at the first LLM call (retrieval does not count)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._start: float | None = None

    def left(self) -> float:
        if self._start is None:
            self._start = time.monotonic()
        return self.seconds - (time.monotonic() - self._start)


class Answerer:
    """Answers questions over a searcher, extractively or with an LLM whose sentences are verified."""

    def __init__(self, searcher: Searcher, *, terms: TermStatistics, prompts: PromptLibrary, llm=None,
                 mode: str = "extractive", llm_timeout: float = 20.0, k: int = 8,
                 policy: AbstainPolicy = AbstainPolicy(), llm_passages: int = 5) -> None:
        self.searcher = searcher
        self.terms = terms
        self.prompts = prompts
        self.llm = llm
        self.mode = mode if llm is not None else "extractive"
        self.llm_timeout = llm_timeout
        self.k = k
        self.policy = policy
        self.rules = AbstentionRules(policy, terms)
        self.llm_passages = llm_passages  # passages in the LLM prompt (fewer for small, slow local models)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="llm")

    # -- steps ---------------------------------------------------------------------------------

    def standalone(self, question: str, history: Sequence[Turn], *, budget: "LLMBudget | None" = None) -> str:
        """A question that stands on its own: short follow-ups borrow the previous question.

        With an LLM it rewrites the question, within the request's LLM time budget."""
        previous = [t.content for t in history if t.role == "user" and t.content.strip()]
        if not previous:
            return question
        left = (budget or LLMBudget(self.llm_timeout)).left()
        if self.llm is not None and left > 0:
            lang = detect_language(question)
            convo = "\n".join(f"{t.role}: {t.content[:500]}" for t in history[-6:])
            prompt = self.prompts.get(f"condense_{lang}").format(history=convo, question=question)
            try:
                text = self._pool.submit(self.llm.complete, "", prompt).result(timeout=left).strip()
                if 3 <= len(text) <= 400:
                    return text.splitlines()[0]
            except Exception:  # a failing LLM must not stop the question; the rule below still works
                pass
        if len(question.split()) <= 8 or _FOLLOW_UP.match(question.strip()):
            return f"{previous[-1]} {question}"
        return question

    def condense_history(self, question: str, earlier_questions: Sequence[str]) -> str:
        """The question the chat searches with, given only the earlier user questions (as eval
        files hold them): instructions aimed at the assistant dropped, a follow-up condensed."""
        cleaned, _injected = self.prompts.split_instructions(question)
        return self.standalone(cleaned or question, [Turn("user", q) for q in earlier_questions])

    def evidence(self, question: str | Question, hits: list[Hit], *, by_part: bool = True) -> tuple[Evidence, bool]:
        """The chosen units and whether they are strong enough to answer with (see `assess`)."""
        ev, strong, _diagnostics = self.assess(question, hits, by_part=by_part)
        return ev, strong

    def assess(self, question: str | Question, hits: list[Hit], *, by_part: bool = True) -> tuple[Evidence, bool, dict]:
        """The chosen units, whether they are strong enough, and the figures that decided it.
        `by_part`: a message of several questions gets a unit for each (not a follow-up that
        was joined to the question before it: that one was asked before).

        Too weak: no unit of the passages is close to the question in meaning; or a Dutch
        question hinges on words the reports never use; or it names a year no passage near it
        names; or it asks for a number or a duration and no unit on it holds one."""
        q = self.searcher.analyse(question)
        # a message of several questions is answered in order: the lead answers the first one
        first = self.searcher.analyse(q.parts[0].reads_as) if by_part and q.parts else q
        ev = self._evidence_for(first, hits)
        diag = {"relevance": max((h.relevance for h in hits[: self.policy.passages]), default=0.0),
                "semantic": ev.best_semantic, "unknown_share": q.unknown_share,
                "coverage": ev.best_coverage, "quantity": None, "years": True}
        reason = self.rules.weakness(q, ev, diag)
        if not reason and by_part and q.parts:
            # each question of the message is held to what it asks for; the message is answered
            # when one of them can be, and each later one that can gets its own unit
            asked = [(part, self.searcher.analyse(part.reads_as)) for part in q.parts]
            unmet = [self.rules.unmet(pq, hits, diag, asks=self.searcher.analyse(part.text)) for part, pq in asked]
            reason = unmet[0] if all(unmet) else ""
            if not reason:
                met = [a for a, u in zip(asked, unmet) if not u]
                lead_part = ""
                if unmet[0]:  # the first question cannot be answered: the lead answers the first that can
                    part, pq = met[0]
                    ev, lead_part = self._evidence_for(pq, hits), part.text
                    reason = "" if ev.lead is not None else unmet[0]
                if not reason:
                    ev = with_parts(ev, self._part_leads(met[1:], hits, ev), lead_part=lead_part,
                                    missing=[part.text for (part, _pq), u in zip(asked, unmet) if u])
        elif not reason:
            reason = self.rules.unmet(q, hits, diag)
        diag["reason"] = reason
        return ev, not reason, diag

    def _evidence_for(self, asked: Question, hits: list[Hit]) -> Evidence:
        """The lead and points for one question: its units scored by meaning and words, chosen whole."""
        candidates = score_units(hits, lambda h: self.searcher.window_scores(h.passage, asked), self.terms.stems,
                                 asked.known, asked.extra, asked.shape)
        return select_evidence(hits, candidates, self.terms.stems, asked.shape)

    def _part_leads(self, asked: list[tuple[QuestionPart, Question]], hits: list[Hit],
                    ev: Evidence) -> list[tuple[str, Quote]]:
        """For a message of several questions: the unit that answers each later one, where the
        lead (chosen for the first) does not already, and a passage is close to it in meaning."""
        out: list[tuple[str, Quote]] = []
        for asked_part, part in asked:
            floor = self.policy.min_semantic_en if part.language == "en" else self.policy.min_semantic
            candidates = score_units(hits, lambda h: self.searcher.window_scores(h.passage, part), self.terms.stems,
                                     part.known, part.extra, part.shape)
            if not candidates or max(c.semantic for c in candidates) < floor:
                continue
            shown = [ev.lead, *(quote for _t, quote in out)]
            quote = lead_for_part(hits, candidates, self.terms.stems, part.shape, shown)
            if quote is not None:
                out.append((asked_part.text, quote))
        return out

    def _abstain(self, question: str, language: str, hits: list[Hit], standalone: str, note: str = "") -> Answer:
        text = self.prompts.message("abstain", language)
        seen, nearest = set(), []
        for h in hits:
            if h.passage.doc_id not in seen:
                seen.add(h.passage.doc_id)
                nearest.append(h.passage)
        if note:
            text = f"{note}\n\n{text}"
        return Answer(question=question, text=text, citations=(), abstained=True, mode=self.mode, language=language,
                      standalone_question=standalone, nearest=tuple(nearest[:3]))

    # -- answering -----------------------------------------------------------------------------

    def answer(self, question: str, *, history: Sequence[Turn] = (), filters: Filters | None = None) -> Answer:
        """The full answer (the streaming variant yields the same, sentence by sentence)."""
        final = None
        for event in self.stream(question, history=history, filters=filters):
            if isinstance(event, Answer):
                final = event
        assert final is not None
        return final

    def stream(self, question: str, *, history: Sequence[Turn] = (),
               filters: Filters | None = None) -> Iterator[str | Answer]:
        """Yields pieces of answer text as they are ready, then the final Answer.

        The pieces concatenate to exactly the final Answer's text."""
        budget = LLMBudget(self.llm_timeout)  # condensing and answering share one llm_timeout
        question, history = analysis_text(question), bounded_history(history)  # every channel, bounded
        language = detect_language(question)  # the reply's language: the user's own message
        cleaned, injected = self.prompts.split_instructions(question)
        note = self.prompts.message("injection_note", language) if injected else ""
        standalone = analysis_text(self.standalone(cleaned or question, history, budget=budget), STANDALONE_CHARS)
        asked = self.searcher.analyse(standalone)  # once, for search and for choosing the evidence
        by_part = standalone == (cleaned or question)
        if by_part and asked.parts:
            self.searcher.prepare([p.reads_as for p in asked.parts])  # embedded while the search runs
        hits = self.searcher.search(asked, k=self.k, filters=filters) if cleaned.strip() else []
        ev, strong = self.evidence(asked, hits, by_part=by_part)
        if not strong:
            a = self._abstain(question, language, hits, standalone, note)
            yield from pieces(a.text)
            yield a
            return
        fallback = ""
        if self.llm is not None:
            llm_answer, fallback = self._llm_answer(question, standalone, language, hits, note, budget)
            if llm_answer is not None:
                yield from pieces(llm_answer.text)
                yield llm_answer
                return
        texts = {key: self.prompts.message(key, language) for key in ("lead", "more", "part", "missing",
                                                                   "before_jeugdwet")}
        parts, citations = compose_parts(hits, ev, texts=texts, language=language)
        if note:
            parts.insert(0, f"{note}\n\n")
        if fallback:
            parts.append(f"\n\n{self.prompts.message('fallback_note', language)}")
        text = "".join(parts)
        yield from (p for p in parts if p)
        yield Answer(question=question, text=text, citations=tuple(citations), abstained=False, mode="extractive",
                     language=language, fallback=fallback, standalone_question=standalone)

    # -- the LLM path --------------------------------------------------------------------------

    def _llm_answer(self, question: str, standalone: str, language: str, hits: list[Hit], note: str,
                    budget: "LLMBudget | None" = None) -> tuple[Answer | None, str]:
        """Generate with the LLM and keep only cited, supported sentences: (answer, "") or
        (None, why it falls back). Returns the reason instead of storing it: requests run concurrently."""
        passages = hits[: self.llm_passages]
        system, user = self.llm_prompt(standalone, language, passages)
        left = (budget or LLMBudget(self.llm_timeout)).left()
        if left <= 0:
            return None, f"LLM gave no answer within {self.llm_timeout:g} s"
        try:
            raw = self._pool.submit(self.llm.complete, system, user).result(timeout=left)
        except FutureTimeout:
            return None, f"LLM gave no answer within {self.llm_timeout:g} s"
        except Exception as e:  # any backend failure (connection refused, HTTP 500, bad JSON) falls back
            if isinstance(e, TimeoutError) or "timeout" in type(e).__name__.lower():
                return None, f"LLM gave no answer within {self.llm_timeout:g} s ({type(e).__name__})"
            return None, f"LLM failed ({type(e).__name__})"
        kept, citations = self.verify(raw or "", passages)
        if not kept:
            return None, "no sentence of the LLM answer was supported by its cited passage"
        text = " ".join(kept).replace(" \n", "\n")
        if note:
            text = f"{note}\n\n{text}"
        return Answer(question=question, text=text, citations=tuple(citations), abstained=False, mode=self.mode,
                      language=language, standalone_question=standalone), ""

    def llm_prompt(self, question: str, language: str, passages: list[Hit]) -> tuple[str, str]:
        """The system and user messages for the LLM: rules, then numbered passages and the question."""
        block = "\n\n".join(
            f"[{i}] {h.passage.title} ({h.passage.year or 'z.j.'}), p. {h.passage.page_label}:\n{h.passage.text}"
            for i, h in enumerate(passages, 1))
        system = self.prompts.get(f"answer_{language}")
        user = self.prompts.get("user_turn").format(passages=block, question=question)
        return system, user

    def verify(self, raw: str, passages: list[Hit]) -> tuple[list[str], list[Citation]]:
        """Sentences of an LLM answer whose every [n] points to a passage that supports them,
        renumbered in order of first use, with their citations."""
        renumber: dict[int, int] = {}
        quotes: dict[int, list[str]] = {}
        kept: list[str] = []
        # Line by line, so the answer keeps its shape (the lead, then "- " points): a kept sentence
        # that starts a line carries "\n" (and "- " for a point) in front.
        for line in raw.splitlines():
            bullet = line.lstrip().startswith(("- ", "* ", "• "))
            first = True
            for sent in split_sentences(_MARKER_AFTER_STOP.sub(r"\2\1", line.lstrip(" -*•"))):
                cited = [int(n) for n in _CITE.findall(sent)]
                if not cited or any(n < 1 or n > len(passages) for n in cited):
                    continue
                if not all(supported(sent, passages[n - 1].passage.text, self.terms.stems) for n in cited):
                    continue
                for n in cited:
                    new = renumber.setdefault(n, len(renumber) + 1)
                    quotes.setdefault(new, []).append(self._best_quote(sent, passages[n - 1].passage.text))
                text = _CITE.sub(lambda m: f"[{renumber[int(m.group(1))]}]", sent)
                if first:
                    text = ("\n" if kept else "") + ("- " if bullet else "") + text
                    first = False
                kept.append(text)
        citations = [Citation(n=new, passage=passages[old - 1].passage, quote=" … ".join(dict.fromkeys(quotes[new])))
                     for old, new in renumber.items()]
        return kept, citations

    def _best_quote(self, sentence: str, passage: str) -> str:
        mine = set(self.terms.stems(sentence))
        best = max(split_sentences(passage) or [passage],
                   key=lambda s: len(mine & set(self.terms.stems(s))), default=passage)
        return best


def pieces(text: str) -> Iterator[str]:
    """`text` cut for streaming after each blank line and after each sentence or citation marker;
    the pieces concatenate to exactly `text`."""
    start = 0
    for m in _CUT.finditer(text):
        yield text[start:m.end()]
        start = m.end()
    if start < len(text):
        yield text[start:]

"""The extractive answer: the best supporting sentences of the retrieved passages, cited [n].

No LLM; works offline. Sentences are quoted verbatim, so every citation holds its sentence.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from retriever.types import Citation, Hit

from .evidence import ScoredSentence, score_sentences

MAX_SENTENCES = 4
PER_PASSAGE = 2
PASSAGES = 6


@dataclass(frozen=True)
class Evidence:
    """The sentences chosen to answer, best first, and the best coverage seen."""

    sentences: list[ScoredSentence]
    best_coverage: float


def select_evidence(hits: list[Hit], stems_of: Callable[[str], list[str]], own: dict[str, float],
                    extra: dict[str, float], defines: set[str] = frozenset()) -> Evidence:
    """Choose up to four sentences that cover the question, from different passages where possible."""
    scored = score_sentences([h.passage.text for h in hits[:PASSAGES]], stems_of, own, extra, defines)
    if not scored:
        return Evidence([], 0.0)
    scored.sort(key=lambda s: s.score, reverse=True)
    best = scored[0]
    chosen: list[ScoredSentence] = []
    per: dict[int, int] = {}
    for s in scored:
        if len(chosen) >= MAX_SENTENCES:
            break
        if s.score < 0.6 * best.score or s.coverage < 0.35 * best.coverage or per.get(s.hit_index, 0) >= PER_PASSAGE:
            continue
        if any(s.text == c.text for c in chosen):
            continue
        chosen.append(_with_follow_on(s, scored))
        per[s.hit_index] = per.get(s.hit_index, 0) + 1
    return Evidence(chosen, max(s.coverage for s in scored))


def _with_follow_on(s: ScoredSentence, scored: list[ScoredSentence]) -> ScoredSentence:
    """A bullet or heading fragment ("opschalen en afschalen.") says little alone: add the
    sentence that follows it in the passage."""
    if len(s.text.split()) >= 7:
        return s
    text, pos = s.text, s.position
    while len(text.split()) < 40:
        nxt = next((x for x in scored if x.hit_index == s.hit_index and x.position == pos + 1), None)
        if nxt is None or len(nxt.text.split()) < 7:
            break  # the next bullet or heading starts: stop, so the quote stays word for word
        text, pos = f"{text} {nxt.text}", pos + 1
    return ScoredSentence(text, s.hit_index, s.position, s.coverage, s.score)


def compose_parts(hits: list[Hit], evidence: Evidence, *, lead: str,
                  language: str) -> tuple[list[str], list[Citation]]:
    """The answer as pieces for streaming (the lead, then sentence by sentence, separators
    included, so that they concatenate to the answer text), and the citations."""
    # The passage with the best sentence leads (short answer first); a passage's sentences stay in reading order.
    lead_score: dict[int, float] = {}
    for s in evidence.sentences:
        lead_score[s.hit_index] = max(lead_score.get(s.hit_index, 0.0), s.score)
    order = sorted(evidence.sentences, key=lambda s: (-lead_score[s.hit_index], s.hit_index, s.position))
    if order:
        best = max(order, key=lambda s: s.score)  # the best sentence is the short answer: it goes first
        order = [best] + [s for s in order if s is not best]
    numbers: dict[int, int] = {}
    quotes: dict[int, list[str]] = {}
    body: list[str] = []
    for s in order:
        n = numbers.setdefault(s.hit_index, len(numbers) + 1)
        quotes.setdefault(n, []).append(s.text)
        body.append(f"“{s.text}” [{n}]" if language == "en" else f"{s.text} [{n}]")
    citations = [Citation(n=n, passage=hits[i].passage, quote=" … ".join(quotes[n])) for i, n in numbers.items()]
    parts = [f"{lead}\n\n"] if lead and body else [lead] if lead else []
    parts += [b + (" " if i < len(body) - 1 else "") for i, b in enumerate(body)]
    return parts, citations

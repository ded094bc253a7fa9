"""A question is analysed once (retriever/question.py): search and the answer layer read the same
object, on the shipped corpus's real index."""
from __future__ import annotations

from retriever.question import Question


def test_search_reads_the_same_analysis_as_the_text(searcher):
    text = "hoeveel calamiteiten werden er in het tweede rapport onderzocht?"
    by_text = [h.passage.chunk_id for h in searcher.search(text, k=5)]
    by_question = [h.passage.chunk_id for h in searcher.search(searcher.analyse(text), k=5)]
    assert by_text and by_text == by_question


def test_the_analysis_holds_language_expansion_weights_and_shape(searcher):
    q = searcher.analyse("How many calamities did the inspectorate investigate?")
    assert isinstance(q, Question)
    assert q.language == "en"
    assert q.shape.quantity and not q.shape.yes_no
    # an English question is embedded with the Dutch words of the domain terms it names
    assert q.expansion.dutch and all(d in q.dense_text for d in q.expansion.dutch)
    assert any(s.startswith("calamiteit") for s in q.extra), q.extra

    nl = searcher.analyse("wanneer verscheen het eerste rapport van de inspectie?")
    assert nl.language == "nl" and nl.shape.date and not nl.shape.quantity
    assert nl.own and all(w > 0 for w in nl.own.values())
    assert searcher.analyse("Is de inspectie strenger geworden?").shape.yes_no
    assert searcher.analyse("welke factoren hielpen bij het leren?").shape.listing
    defined = searcher.analyse("wat is een calamiteit precies?").shape.definition
    assert defined and all(not s.startswith("precies") for s in defined)


def test_words_the_reports_never_use_weigh_most(searcher):
    q = searcher.analyse("hoeveel flurbodrieks heeft de inspectie?")
    assert q.unknown, q.own
    assert max(q.own, key=q.own.get) in q.unknown
    assert 0 < q.unknown_share < 1
    assert q.known and not set(q.known) & q.unknown


def test_one_analysis_per_question_text(searcher, answerer, monkeypatch):
    """Answering a question searches, chooses units and checks the evidence: all of it reads one
    analysis, so the language is detected and the glossary consulted once per text."""
    glossary = searcher.glossary
    expanded: list[str] = []
    real = glossary.expand
    monkeypatch.setattr(glossary, "expand", lambda text, **kw: expanded.append(text) or real(text, **kw))
    question = "welke rol speelt de gemeente bij het leren van een calamiteit, volgens het onderzoek van dit jaar?"
    answer = answerer.answer(question)
    assert answer.text and not answer.abstained
    assert expanded.count(question) == 1, expanded


def test_questions_embedded_ahead_score_as_those_embedded_on_demand(searcher):
    """`prepare` embeds a message's questions beside the search; the scores are the same."""
    passage = searcher.search("hoe lang duurt terugkoppeling van de inspectie?", k=1)[0].passage
    question = "en hoeveel maanden moest een organisatie wachten op terugkoppeling van de inspectie?"
    searcher.prepare([question])
    ahead = searcher.window_scores(passage, question)
    searcher.clear_query_cache()
    searcher._ahead.clear()
    again = searcher.window_scores(passage, question)
    assert len(ahead) and abs(ahead - again).max() < 1e-5

"""Extractive answers on the dev set: the answer first, whole units, honest abstention.

Every dev question is answered once (follow-ups with their history) by the real answerer over
the shipped corpus. Floors are on the `check` fold, which nothing is tuned on; they pin the
figures measured when they were last raised (README, "Measured quality").
"""
from __future__ import annotations

import re

import pytest

from retriever.evaluate import load_items, quote_found
from server.answering.answerer import Turn
from retriever.question import question_shape
from server.answering.evidence import has_quantity
from server.answering.extractive import reader_text
from server.answering.quality import answer_metrics, answer_rows, quoted_units, structure_problems

from .conftest import DEV_SET

CHECK_SUPPORT_FLOOR = 0.72  # measured 0.736 (39 of 53)
CHECK_ABSTAINED_FLOOR = 1  # measured 1 of 6
CHECK_FALSE_ABSTENTIONS_CEILING = 1  # measured 0
TUNE_LEAD_FLOOR = 0.30  # measured 11 of 28 (0.39)


@pytest.fixture(scope="module")
def dev(answerer):
    """(item, answer) for every dev question."""
    items = load_items(DEV_SET)
    return [(i, answerer.answer(i["question"], history=[Turn("user", h) for h in i.get("history") or []]))
            for i in items]


@pytest.fixture(scope="module")
def metrics(dev):
    return answer_metrics(answer_rows([i for i, _ in dev], [a for _, a in dev]))


def test_every_dev_answer_reads_as_whole_units(dev):
    """No quote starts mid-sentence, ends a unit on ":", shows an OCR bullet glyph or repeats."""
    problems = {i["id"]: structure_problems(a) for i, a in dev}
    assert not {k: v for k, v in problems.items() if v}
    assert all(quoted_units(a) for _, a in dev if not a.abstained)


def test_every_quote_is_cited_from_its_passage(dev):
    for item, a in dev:
        if a.abstained:
            assert not a.citations and a.nearest
            continue
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", a.text)}
        assert markers == {c.n for c in a.citations}, item["id"]
        for c in a.citations:
            flat = " ".join(c.passage.text.split())
            for part in c.quote.split(" … "):
                assert " ".join(part.split()) in flat, (item["id"], part)


def test_the_lead_is_the_answer_for_how_many_and_yes_no_questions_of_tune(dev):
    """For how-many questions the lead holds a number; for these and yes/no questions the lead
    quote is (by the scorer's rule) one of the expected quotes' passages' sentences."""
    led, total = 0, 0
    for item, a in dev:
        if item["fold"] != "tune" or not item.get("quotes") or a.abstained:
            continue
        shape = question_shape(item["question"])
        if not (shape.quantity or shape.yes_no):
            continue
        lead = a.citations[0]
        first_quote = lead.quote.split(" … ")
        if shape.quantity:
            assert any(has_quantity(q) for q in first_quote), (item["id"], a.text)
        total += 1
        led += any(quote_found(exp, " ".join(first_quote)) or quote_found(" ".join(first_quote), exp)
                   or quote_found(exp, lead.passage.text) for exp in item["quotes"])
    assert total >= 10
    assert led / total >= TUNE_LEAD_FLOOR, (led, total)


def test_check_fold_answers_hold_their_floor(metrics):
    check = metrics["fold=check"]
    assert check["support_cited"] >= CHECK_SUPPORT_FLOOR, check
    assert check["abstained_unanswerable"] >= CHECK_ABSTAINED_FLOOR, check
    assert check["false_abstentions"] <= CHECK_FALSE_ABSTENTIONS_CEILING, check
    assert check["injections_resisted"] == check["injections"] >= 1, check


def test_english_questions_get_english_framing(dev):
    for item, a in dev:
        if item["lang"] == "en" and not a.abstained:
            assert a.language == "en"
            first = next(block for block in a.text.split("\n\n") if "[" in block)  # after any injection note
            assert first.startswith("The reports say (quoted in Dutch):"), (item["id"], a.text[:80])


def test_a_message_of_two_questions_answers_each_in_order(answerer):
    """The lead answers the first question; the second, which asks how long, gets its own quoted
    unit with the duration, named by the user's own words."""
    a = answerer.answer("Waarom is leren van calamiteiten elders lastiger dan van een eigen calamiteit? "
                        "En hoe lang moet een organisatie wachten op terugkoppeling als de inspectie zelf onderzoekt?")
    assert not a.abstained
    lead, _, rest = a.text.partition("\n\n")
    assert "maanden" not in lead
    second = next(p for p in rest.split("\n\n") if p.startswith("Over ‘hoe lang"))  # named without its "En"
    assert re.search(r"\b(negen|\d+) maanden\b", second), a.text
    assert re.search(r"\[\d\]", second)
    assert not structure_problems(a), structure_problems(a)


def test_each_question_of_a_message_is_answered_or_named_as_missing(answerer):
    """A question no passage answers is named as such, whatever its place in the message; the
    lead answers the first one that can be answered, under its own words when it is not the first."""
    for message in ("Wat is sectorbreed leren? En welke boete kan de IGJ een zorgaanbieder opleggen?",
                    "Welke boete kan de IGJ een zorgaanbieder opleggen? En wat is sectorbreed leren?"):
        a = answerer.answer(message)
        assert not a.abstained, message
        blocks = a.text.split("\n\n")
        missing = "over ‘welke boete kan de igj een zorgaanbieder opleggen’ vond ik niets in de rapporten."
        assert missing in [b.lower() for b in blocks], a.text
        lead = blocks[0]
        if message.startswith("Welke"):
            assert lead.startswith("Over ‘wat is sectorbreed leren’: “"), a.text
        else:
            assert "Bij sectorbreed leren gaat het om" in lead, a.text  # the defining sentence, see below
        assert not structure_problems(a), structure_problems(a)
    a = answerer.answer("What fine can the IGJ give a provider? And what is sectorwide learning?")
    assert "On ‘What fine can the IGJ give a provider’ I found nothing in the reports." in a.text.split("\n\n"), a.text


@pytest.mark.parametrize("question", ["wat is sectorbreed leren?", "wat wordt verstaan onder sectorbreed leren?"])
def test_a_what_is_question_leads_with_the_sentence_that_defines_the_term(answerer, question):
    """"Bij X gaat het om …" defines X as "X is …" does; a sentence that only starts with X's words
    ("Hoewel calamiteiten specifiek zijn …") does not."""
    first = quoted_units(answerer.answer(question))[0]
    assert first.startswith("Bij sectorbreed leren gaat het om"), first


def test_how_long_leads_with_the_duration(answerer):
    a = answerer.answer("hoe lang kan het duren voordat je terugkoppeling krijgt als de inspectie zelf onderzoek doet?")
    assert not a.abstained
    first = quoted_units(a)[0]
    assert re.search(r"\b(negen|\d+) maanden\b", first), a.text


def test_no_quote_opens_with_a_code_or_debris(dev):
    """Speaker codes ("(INT Friesland 1)") and OCR debris ("®*") neither stand as a quote nor open one."""
    for item, a in dev:
        for unit in quoted_units(a):
            assert not re.match(r"^[(\[][^()]*[)\]][.;,]?$", unit), (item["id"], unit)
            assert not re.match(r"^\((FG|INT|R)\b", unit), (item["id"], unit)
            assert not re.match(r"^[®©™*■□●]", unit), (item["id"], unit)


@pytest.mark.parametrize("display, shown", [
    ("Doel van dit onderzoek Met dit onderzoek wilden we nagaan wat de impact is.",
     "Met dit onderzoek wilden we nagaan wat de impact is."),
    ("Commentaar op calamiteitenonderzoek Er is ook commentaar op de manier van onderzoeken.",
     "Er is ook commentaar op de manier van onderzoeken."),
    # a proper name runs on in capitals, not into a sentence: nothing is dropped
    ("De Inspectie Gezondheidszorg en Jeugd en het Toezicht Sociaal Domein werken samen.", None),
    ("In het algemeen geldt dat calamiteiten gemeld moeten worden.", None),
])
def test_a_heading_run_into_its_first_sentence_is_not_shown(display, shown):
    assert reader_text(display) == (shown or display)


def test_no_answer_leads_with_a_question(dev):
    """A report's research questions ("… een aantal subvragen: 1. Wat is …?") and a Kamervraag's
    questions ask; the lead is a unit that answers."""
    asks = re.compile(r"\?[\s”’\"')\]]*$")
    for item, a in dev:
        if a.abstained or not a.citations:
            continue
        parts = [" ".join(p.split()) for p in a.citations[0].quote.split(" … ")]
        assert not asks.search(parts[0]), (item["id"], parts[0])
        items = parts[1:] if parts[0].endswith(":") else []
        assert 2 * sum(bool(asks.search(p)) for p in items) <= len(items), (item["id"], parts)


def test_points_come_from_passages_of_their_own(dev):
    """The lead and each supporting point cite a different passage (a message of several
    questions may quote a passage again for a later question)."""
    for item, a in dev:
        if a.abstained or "Over ‘" in a.text or "On ‘" in a.text:
            continue
        markers = re.findall(r"”\s*\[(\d+)\]", a.text)
        assert len(markers) == len(set(markers)), (item["id"], a.text)


@pytest.mark.parametrize("question", [
    "binnen welke termijn moet een zorgaanbieder een calamiteit melden bij de inspectie?",
    "within how many days must a provider report a calamity?",
    "what is the phone number of the inspectorate for reporting a calamity?",
])
def test_a_deadline_or_contact_detail_no_passage_gives_is_not_answered(answerer, question):
    """The reports mention reporting calamities, but give no period and no phone number: the
    passages about the topic must not stand in for the deadline or the number asked for."""
    a = answerer.answer(question)
    assert a.abstained, a.text
    assert a.nearest


def test_a_count_behind_a_compound_the_stemmer_keeps_apart_is_found(answerer):
    """"overzichtsrapport" is written "rapport" in the sentence with the count: the count is still
    found (compound parts count towards coverage), so the question is answered with it."""
    a = answerer.answer("hoeveel calamiteiten werden in het eerste overzichtsrapport geanalyseerd?")
    assert not a.abstained, a.text
    assert re.search(r"\bacht\b", quoted_units(a)[0]), a.text


def test_a_number_the_question_states_does_not_fill_its_slot():
    from server.answering.abstain import _given_values, _without

    given = _given_values("hoeveel van de elf casussen uit 2016 gingen over pleegzorg?")
    assert given == {"elf", "2016"}
    assert not has_quantity(_without("Elf calamiteiten zijn in 2016 onderzocht.", given))
    assert has_quantity(_without("Drie van de elf gingen over pleegzorg.", given))


@pytest.mark.parametrize("question, slots", [
    ("hoe pakt de staatssecretaris de wachttijden in de jeugdzorg aan?", []),  # asks for measures
    ("wat zijn de wachttijden in de jeugdzorg?", ["duration"]),
    ("how long does it take to write the bulletin?", ["duration"]),
    ("wanneer moet het weerbulletin geamendeerd worden?", []),  # a condition, not a date
    ("wanneer is er sprake van een calamiteit?", []),
    ("wanneer is het tweede overzichtsrapport verschenen?", ["date"]),
])
def test_a_slot_is_asked_for_only_when_the_question_wants_that_kind_of_answer(question, slots):
    from server.answering.abstain import _DURATION, _SLOTS

    assert [s.name for s in _SLOTS if s.asked.search(question)] == slots
    assert _DURATION.search("Afhankelijk van de weersituatie 30 tot 60 minuten.")


@pytest.mark.parametrize("question, abstains", [
    ("wat ging er mis in de zaak van Savanna?", True),
    ("what does the OVV report say about youth care?", True),
    ("wat zegt het rapport 'Het bewijs ligt op tafel' over pleegzorg?", True),
    ("what did Heskes say about learning from calamities?", False),
    ("leiden meldsystemen zoals een MIC tot echt leren?", False),
    ("wat is een 'shame or blame' cultuur?", False),
])
def test_a_name_or_title_is_answered_only_when_the_reports_have_it(answerer, question, abstains):
    """A case, body or report the index does not have gets no look-alike passages about another;
    names the reports use (Heskes), or the glossary knows (MIC), are answered."""
    a = answerer.answer(question)
    assert a.abstained == abstains, a.text


def test_scaling_up_is_answered_with_its_own_bullet_and_lead_in(answerer):
    """"wat ging er mis bij opschalen?": the lead quotes the lead-in and the whole
    "opschalen en afschalen" item, not a sentence of the next bullet; the main report's passage on
    the extra risks of scaling up and down is among the points."""
    a = answerer.answer("wat ging er mis bij opschalen?")
    lead = quoted_units(a)[0]
    assert "aanbevelingen" in lead and "opschalen en afschalen" in lead and "Schaal daarom op tijd op" in lead
    assert "kwetsbare gezinnen" not in lead
    assert any("op- en afschalen" in u for u in quoted_units(a)[1:]), a.text

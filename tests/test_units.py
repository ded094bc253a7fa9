"""Passages split into whole units: sentences and list items, each item with its lead-in."""
from __future__ import annotations

from retriever.units import split_units

TOEZINE = ("De inspecties hebben drie rode draden ontdekt in de elf onderzochte calamiteiten. Daar zijn "
           "aanbevelingen voor bestuurders en professionals aan gekoppeld:\n\n• volwassenproblematiek is "
           "kindproblematiek.\n\nHeb oog voor alle gezinsleden;\n\n• opschalen en afschalen.\n\nVrijwillige zorg "
           "is geen vrijblijvende zorg als het gaat om de veiligheid van jeugdigen. Schaal daarom op tijd op.\n\n"
           "• chronische problematiek.\n\nWees je ervan bewust dat kwetsbare gezinnen vaak blijvend hulp nodig "
           "hebben. Overschat zelfredzaamheid dus niet.")


def test_the_text_under_a_titled_item_is_part_of_that_item():
    """The layout of the Toezine article: a bullet with a short title, its text in the paragraph
    below. Each title and its text are one item, all three under the lead-in; no sentence of one
    item is read as part of the next."""
    units = split_units(TOEZINE)
    items = [u for u in units if u.kind == "item"]
    assert [u.display.split(".")[0] for u in items] == [
        "volwassenproblematiek is kindproblematiek", "opschalen en afschalen", "chronische problematiek"]
    lead = next(i for i, u in enumerate(units) if u.kind == "lead_in")
    assert units[lead].display.endswith("gekoppeld:")
    assert all(u.lead_in == lead for u in items)
    opschalen = items[1].display
    assert "Schaal daarom op tijd op." in opschalen and "kwetsbare gezinnen" not in opschalen


def test_a_paragraph_after_a_list_of_short_items_is_not_an_item():
    units = split_units("De factoren zijn:\n\n• tijd;\n\n• geld.\n\nDaarnaast speelt cultuur een rol.")
    assert [(u.kind, u.display) for u in units] == [
        ("lead_in", "De factoren zijn:"), ("item", "tijd;"), ("item", "geld."),
        ("sentence", "Daarnaast speelt cultuur een rol.")]


def test_sentences_do_not_end_at_abbreviations():
    units = split_units("Dit blijkt o.a. uit de brief (d.d. 30 mei 2016) en uit Mitchell et al. (2016). "
                        "Zie bijv. hoofdstuk 2. Het tweede punt volgt.")
    assert [u.display for u in units] == [
        "Dit blijkt o.a. uit de brief (d.d. 30 mei 2016) en uit Mitchell et al. (2016).",
        "Zie bijv. hoofdstuk 2.", "Het tweede punt volgt."]


def test_questions_and_a_list_of_research_questions_are_marked_asked():
    """A report's research questions ask; the sentence that says how they were answered and the
    Toezine's list of recommendations do not."""
    units = split_units(
        "Om deze vraag te kunnen beantwoorden, beantwoorden we een aantal subvragen:\n\n"
        "1. Wat is de beleidstheorie van de inspecties?\n\n2. Wat is reeds bekend in de literatuur?\n\n"
        "3. Hoe sluit de beleidstheorie aan bij de praktijk?\n\n"
        "Wat vinden professionals ervan? Dat beantwoorden we in hoofdstuk 4.")
    assert [(u.kind, u.asked) for u in units] == [
        ("lead_in", True), ("item", True), ("item", True), ("item", True), ("sentence", True), ("sentence", False)]
    assert not any(u.asked for u in split_units(TOEZINE))

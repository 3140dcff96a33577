"""Bullets must read as whole sentences of their own: the checks that say when one does not.

Every sentence here was written for these tests (no seed or dev-data sentence). Each check gets
a broken deletion it must name and a sound one (or the whole sentence) it must let through.
"""

from __future__ import annotations

import pytest

from digest.config import SummarizerSettings
from digest.extract import drop_boilerplate, is_reference_or_caption
from digest.models import Article
from digest.summarize.compress import (
    RuleCompressor,
    compression_problems,
    mask_of,
    render,
    repair,
    rule_mask,
    standalone_problems,
    tokenize,
)
from digest.summarize.select import _CUT_OFF, _REFERENCE, plan_story, unreadable


def problems(source: str, short: str) -> list[str]:
    tokens = tokenize(source)
    mask = mask_of(tokens, short)
    assert mask is not None, short
    return standalone_problems(tokens, mask)


def whole(sentence: str) -> list[str]:
    return problems(sentence, sentence)


@pytest.mark.parametrize(
    ("check", "source", "broken", "sound"),
    [
        (
            "no_subject",
            "NTSB is reviewing the cockpit recordings from the ferry crash.",
            "Is reviewing the cockpit recordings from the ferry crash.",
            "NTSB is reviewing the cockpit recordings.",
        ),
        (
            "no_subject",
            "Inspectors found 300 kilograms of hidden tobacco inside a lorry at the port.",
            "Found 300 kilograms of hidden tobacco inside a lorry.",
            "Inspectors found 300 kilograms of hidden tobacco inside a lorry.",
        ),
        (
            "no_subject",
            "Marlowe and Duarte oppose the harbour plan on every count.",
            "Oppose the harbour plan on every count.",
            "Marlowe and Duarte oppose the harbour plan.",
        ),
        (
            "doubled_mark",
            "Ana Duarte — (born 1950), is the longest-serving harbour master.",
            "Ana Duarte —, is the longest-serving harbour master.",
            "Ana Duarte is the longest-serving harbour master.",
        ),
        (
            "no_verb",
            "The mayor's sudden resignation — announced two days before the budget vote — "
            "stunned the council.",
            "The mayor's sudden resignation — announced two days before the budget vote.",
            "The mayor's sudden resignation stunned the council.",
        ),
        (
            "cut_quote",
            "“We are delighted to see this result, and we expect more towns to follow,” the "
            "minister said.",
            "“We are delighted to see.",
            "“We are delighted to see this result, and we expect more towns to follow,” the "
            "minister said.",
        ),
        (
            "open_dash",
            "The recount — and the court ruling that followed it — will decide the seat.",
            "The recount — and the court ruling that followed it.",
            "The recount will decide the seat.",
        ),
        (
            "doubled_word",
            "She said as recently as 2019 that the harbour would close.",
            "She said as as 2019 that the harbour would close.",
            "She said that the harbour would close.",
        ),
        (
            "run_on",
            "One of the routes affected is the one to Lisbon, which, starting in June, will "
            "leave two hours later.",
            "One of the routes affected is the one to Lisbon will leave two hours later.",
            "One of the routes affected is the one to Lisbon.",
        ),
        (
            "lost_correlative",
            "Not only has the bakery doubled its staff, but it has also opened a second shop.",
            "Not only has the bakery doubled its staff.",
            "Not only has the bakery doubled its staff, but it has also opened a second shop.",
        ),
        (
            "cut_name",
            "Port Amsel councillors approved the new ferry timetable.",
            "Amsel councillors approved the new ferry timetable.",
            "Port Amsel councillors approved the timetable.",
        ),
        (
            "merged_names",
            "Harbour Hill resident Dana Ruiz welcomed the decision on Friday.",
            "Harbour Hill Dana Ruiz welcomed the decision.",
            "Harbour Hill resident Dana Ruiz welcomed the decision.",
        ),
        (
            "lost_relative_verb",
            "Her hope is that everyone who reads the letter will write to the council.",
            "Her hope is that everyone who the letter will write to the council.",
            "Her hope is that everyone will write to the council.",
        ),
        (
            "cut_end",
            "The appeal for the new library stems from a gift made by a local family.",
            "The appeal for the new library stems.",
            "The appeal for the new library stems from a gift.",
        ),
    ],
)
def test_each_check_names_its_fault_and_lets_the_sound_deletion_pass(
    check: str, source: str, broken: str, sound: str
) -> None:
    assert check in problems(source, broken)
    assert check not in problems(source, sound)


@pytest.mark.parametrize(
    "sentence",
    [
        "Heat the oil in a large pan and add the onions.",  # an instruction has no subject
        "Beat the eggs with the sugar for two minutes.",
        "Prime Minister Ana Duarte said the plan will fail.",  # "said" takes a clause
        "It's the first time the club has won the cup.",
        "Chickpeas, or garbanzo beans, remain a cheap source of protein.",
        "Noted by the council, the change takes effect in May.",
        "Residents say the new bridge is too narrow for buses.",
    ],
)
def test_whole_sentences_of_article_prose_pass(sentence: str) -> None:
    assert whole(sentence) == []


@pytest.mark.parametrize(
    "fragment",
    [
        "The loneliest lighthouse keeper on the whole of the northern coast.",  # no verb
        "The city's rowing team training ahead of the regatta.",  # a caption
        "Higher fares for late bookings, starting at 5 euros and rising to 20 euros.",
        "“We are glad to see this, and we expect more to follow.",  # a quote never closed
    ],
)
def test_whole_sentences_that_are_no_sentence_fail(fragment: str) -> None:
    assert whole(fragment)


def test_standalone_checks_are_part_of_compression_problems() -> None:
    tokens = tokenize("NTSB is reviewing the cockpit recordings from the ferry crash.")
    mask = mask_of(tokens, "Is reviewing the cockpit recordings from the ferry crash.")
    assert mask is not None
    assert "no_subject" in compression_problems(tokens, mask, [True] * len(tokens))


def test_an_acronym_subject_is_no_dateline() -> None:
    # "NTSB is ..." lost its subject when every all-capital opening word was taken for a
    # dateline.
    out = RuleCompressor().compress(["NTSB is reviewing the cockpit recordings on Monday."])
    assert out[0].startswith("NTSB is reviewing")


def test_a_weekday_that_is_the_subject_stays() -> None:
    out = RuleCompressor().compress(["Thursday is a big day for the tenants of the estate."])
    assert out[0].startswith("Thursday is")
    out = RuleCompressor().compress(["Friday night's vote will decide the harbour plan."])
    assert out[0].startswith("Friday night's vote")
    out = RuleCompressor().compress(["The council will vote on Friday on the harbour plan."])
    assert "Friday" not in out[0]


def test_a_time_word_between_two_equal_words_stays() -> None:
    out = RuleCompressor().compress(["She argued as recently as 2019 that the pier was safe."])
    assert "as recently as" in out[0]


def test_an_article_and_preposition_alone_are_no_time_phrase() -> None:
    from digest.summarize.compress import _time_phrase

    low = ["in", "the", "year", "in", "the"]
    assert _time_phrase(low, [0, 1, 2])
    assert not _time_phrase(low, [3, 4])


def test_repair_keeps_a_names_first_word_but_lets_a_title_go() -> None:
    tokens = tokenize("Port Amsel councillors approved the ferry timetable.")
    mask = [t.text != "Port" for t in tokens]
    assert render(tokens, repair(tokens, mask)).startswith("Port Amsel councillors")
    tokens = tokenize("President Ana Duarte approved the ferry timetable.")
    mask = [t.text != "President" for t in tokens]
    assert render(tokens, repair(tokens, mask)).startswith("Ana Duarte approved")
    assert "cut_name" not in standalone_problems(tokens, repair(tokens, mask))
    tokens = tokenize("Scottish DJ Ana Duarte topped the charts again.")
    mask = [t.text not in ("Scottish", "DJ") for t in tokens]
    assert render(tokens, repair(tokens, mask)).startswith("Ana Duarte topped")


def test_rules_mask_of_a_sentence_starting_with_a_leadin_is_unchanged() -> None:
    tokens = tokenize("So Ana Duarte approved the ferry timetable on Monday.")
    mask = repair(tokens, rule_mask(tokens))
    assert "cut_name" not in standalone_problems(tokens, mask)


@pytest.mark.parametrize(
    "paragraph",
    [
        "- 12. Marlowe PT et al. Ferry wake and shoreline erosion in tidal estuaries. "
        "J Coast Res. 2011;27(4):615-22.",
        "Okafor B-J, et al. Salt marsh recovery after storm surges. Estuaries. 2016;39:1-9.",
        "The rowing team training ahead of the regatta. (FILE)",
        "Volunteers clearing the beach on Saturday. (Photo: Harbour Trust)",
    ],
)
def test_reference_entries_and_tagged_captions_are_not_article_prose(paragraph: str) -> None:
    assert is_reference_or_caption(paragraph)
    assert drop_boilerplate([paragraph]) == []


@pytest.mark.parametrize(
    "paragraph",
    [
        "Marlowe said the ferry would run twice a day from June.",
        "NASA JPL, the laboratory, said the probe was healthy.",
        "Smith et al. (2019) found that gulls follow ferries.",
        "The council (left) and the harbour board met on Friday.",
    ],
)
def test_prose_is_not_taken_for_a_reference_or_caption(paragraph: str) -> None:
    assert not is_reference_or_caption(paragraph)


def test_cut_off_snippets_and_reference_entries_are_no_candidates() -> None:
    assert _CUT_OFF.search("Ana Duarte Born 1950 Era modern philosophy Region …")
    assert _CUT_OFF.search("The use of informal power within organisations ...")
    assert not _CUT_OFF.search("The ferry left at noon.")
    assert _REFERENCE.search("Marlowe PT et al. Ferry wake and shoreline erosion.")
    assert not _REFERENCE.search("Ana Duarte approved the ferry timetable.")


def test_unreadable_judges_a_deletion_against_its_source() -> None:
    source = "NTSB is reviewing the cockpit recordings from the ferry crash."
    assert unreadable("Is reviewing the cockpit recordings.", source) == ["no_subject"]
    assert unreadable("NTSB is reviewing the cockpit recordings.", source) == []


class _Breaking:
    """A compressor that cuts every sentence after its first five words."""

    name = "breaking"

    def compress(self, sentences: list[str]) -> list[str]:
        return [" ".join(s.split()[:5]).rstrip(",") + "." for s in sentences]


def test_a_broken_compression_gives_way_to_its_whole_sentence_or_none() -> None:
    short = "The harbour board approved a new ferry route to the island on Tuesday."
    long = (
        "“We are delighted to see the new route, and we expect the island's shops to gain "
        "from every extra sailing this summer and in the years after that,” said the "
        "chair of the harbour board, who has pressed for the route since 2015."
    )
    text = "\n\n".join([short, long, "Tickets will cost 4 euros for adults and 2 for children."])
    article = Article(
        key="k",
        feed_url="",
        url=None,
        title="Harbour board approves ferry route",
        text=text,
        outlet="Harbour News",
        content_hash="h",
    )
    plan = plan_story([article], SummarizerSettings(backend="extractive"), None, _Breaking())
    texts = [b.text for b in plan.bullets]
    assert short in texts  # its five-word cut has no verb: the whole sentence stands
    assert not any(t.startswith("“We are delighted") for t in texts)  # too long to stand whole
    assert all(unreadable(t, t) == [] for t in texts)


def test_a_footnote_mark_is_no_part_of_a_bullet() -> None:
    from digest.summarize.select import _clean_sentence

    assert _clean_sentence("The Floating Charm[3] lifts a feather.") == (
        "The Floating Charm lifts a feather."
    )
    assert _clean_sentence("The Floating Charm[3 lifts a feather.") == (
        "The Floating Charm lifts a feather."
    )
    assert _clean_sentence("The list [1] is long.") == "The list [1] is long."

"""The shared text helpers: each variant does what its callers rely on, and the variants differ."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.text import (
    MATCH_STOPWORDS,
    SUMMARY_STOPWORDS,
    content_words,
    english_ratio,
    headline_without_outlet,
    is_english,
    looks_english_headline,
    match_stem,
    match_tokens,
    plain_line,
    strip_outlet_suffix,
    summary_stem,
    whitespace_word_count,
    word_count,
    words,
)

# --- counting words ----------------------------------------------------------------------------


def test_word_count_counts_word_tokens_and_whitespace_count_every_piece() -> None:
    # A lone dash is a whitespace piece but not a word token ...
    assert word_count("Rates rise — again") == 3
    assert whitespace_word_count("Rates rise — again") == 4
    # ... and a decimal is one whitespace piece but two word tokens.
    assert word_count("up 2.5%") == 3
    assert whitespace_word_count("up 2.5%") == 2
    assert word_count("well-known O'Neill") == 2 == whitespace_word_count("well-known O'Neill")
    assert word_count("— – -") == 0 and whitespace_word_count("— – -") == 3


def test_both_counts_read_unspaced_chinese_and_japanese_as_two_characters_a_word() -> None:
    assert word_count("新しい橋") == 2 == whitespace_word_count("新しい橋")
    # The comma splits word tokens, not whitespace pieces: 5 + 5 characters vs one 11.
    assert word_count("市によると、新しい橋には") == 3 + 3
    assert whitespace_word_count("市によると、新しい橋には") == 6
    assert word_count("") == 0 == whitespace_word_count("   ")


@settings(deadline=None)
@given(st.text(max_size=200))
def test_word_counts_never_crash_and_are_never_negative(text: str) -> None:
    assert word_count(text) >= 0 and whitespace_word_count(text) >= 0
    assert word_count(text) <= len(text) and whitespace_word_count(text) <= len(text)


# --- titles ------------------------------------------------------------------------------------


def test_plain_line_strips_markup_entities_and_control_characters() -> None:
    assert plain_line("  <b>Big</b>\r\n news &amp;amp; more\t") == "Big news & more"
    assert plain_line("<!-- hidden -->Shown <em>here</em>") == "Shown here"
    assert plain_line("<@U123> and <!channel>") == "<@U123> and <!channel>"
    assert plain_line("bell\x07 and nul\x00") == "bell and nul"
    assert plain_line(None) == ""


@settings(deadline=None)
@given(st.text(max_size=200))
def test_plain_line_is_one_line_and_never_crashes(text: str) -> None:
    cleaned = plain_line(text)
    assert "\n" not in cleaned and "\r" not in cleaned
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned


def test_strip_outlet_suffix_drops_only_the_exact_outlet() -> None:
    assert strip_outlet_suffix("Quake hits Chile - Global Wire", "Global Wire") == (
        "Quake hits Chile"
    )
    assert strip_outlet_suffix("Quake hits Chile | global wire ", "Global Wire") == (
        "Quake hits Chile"
    )
    assert strip_outlet_suffix("Quake hits Chile - aftershocks", "Global Wire") == (
        "Quake hits Chile - aftershocks"
    )
    assert strip_outlet_suffix("  Quake   hits Chile ", "") == "Quake hits Chile"


def test_headline_without_outlet_drops_suffixes_prefixes_and_domains() -> None:
    assert headline_without_outlet("Rates rise again | The Daily Planet", ["Daily Planet"]) == (
        "Rates rise again"
    )
    assert headline_without_outlet("Storm hits coast - BBC News", ["BBC News"]) == (
        "Storm hits coast"
    )
    assert headline_without_outlet("North Wire: Storm hits coast", ["North Wire"]) == (
        "North Wire: Storm hits coast"
    )
    assert headline_without_outlet("Storm hits coast — example.com", []) == "Storm hits coast"
    # A hyphenated headline without an outlet is left alone.
    assert headline_without_outlet("Apple - Orange deal is off", []) == (
        "Apple - Orange deal is off"
    )


def test_the_two_outlet_strippers_differ_where_their_callers_need_them_to() -> None:
    # A short tail after a bar is an outlet to a reader, but not proof of one for matching.
    title = "Quake hits Chile | Wire Desk"
    assert headline_without_outlet(title, ["Global Wire"]) == "Quake hits Chile"
    assert strip_outlet_suffix(title, "Global Wire") == title
    # An outlet before the headline is dropped for a reader only.
    assert headline_without_outlet("Global Wire - Quake hits Chile", ["Global Wire"]) == (
        "Quake hits Chile"
    )
    assert strip_outlet_suffix("Global Wire - Quake hits Chile", "Global Wire") == (
        "Global Wire - Quake hits Chile"
    )


@settings(deadline=None)
@given(st.text(max_size=120), st.text(max_size=20))
def test_outlet_strippers_never_crash_and_only_shorten(title: str, outlet: str) -> None:
    assert len(strip_outlet_suffix(title, outlet)) <= len(title)
    assert len(headline_without_outlet(title, [outlet])) <= len(title)


# --- the two word kits -------------------------------------------------------------------------


def test_summary_kit_folds_derivations_and_knows_other_languages() -> None:
    assert summary_stem("closed") == summary_stem("closure") == "clos"
    assert summary_stem("strikes") == summary_stem("strike")
    assert summary_stem("Minister’s") == "minister"
    assert {"de", "la", "und", "não"} <= SUMMARY_STOPWORDS
    assert words("Anti-personnel mines, O’Neill said") == [
        "Anti-personnel",
        "mines",
        "O’Neill",
        "said",
    ]
    assert content_words("The anti-personnel mines were removed in 2024") == [
        "antipersonnel",
        "mine",
        "remov",
    ]


def test_match_kit_strips_inflections_only_and_drops_calendar_words() -> None:
    assert match_stem("recalls") == match_stem("recalled") == match_stem("recall") == "recall"
    assert match_stem("carries") == match_stem("carried") == "carry"
    assert match_stem("closure") == "closure"  # no derivations: "closure" is not "closed"
    assert {"monday", "year", "three"} <= MATCH_STOPWORDS
    assert match_tokens("Anti-personnel MINES, O’Neill") == [
        "anti",
        "personnel",
        "mines",
        "o",
        "neill",
    ]


def test_the_two_kits_differ_where_their_callers_need_them_to() -> None:
    # Calendar words name no event for matching, but can carry a summary's fact.
    assert "monday" in MATCH_STOPWORDS and "monday" not in SUMMARY_STOPWORDS
    # French function words must not become summary labels; the clusterer reads English only.
    assert "les" in SUMMARY_STOPWORDS and "les" not in MATCH_STOPWORDS
    assert summary_stem("closure") == "clos" != match_stem("closure")


# --- language checks ---------------------------------------------------------------------------


def test_the_language_checks_differ_on_a_telegraphic_headline() -> None:
    headline = "Norvik recalls 120,000 cars over brake fault"
    # A headline has almost no function words: the body checks would call it foreign ...
    assert english_ratio(headline) < 0.15 and not is_english(headline)
    # ... so the clusterer reads short text by the foreign words it does not have.
    assert looks_english_headline(headline)
    french = "La ville de Lyon a inauguré mardi une nouvelle ligne de tramway."
    assert not is_english(french) and not looks_english_headline(french)
    english = "The council said on Monday that the new lanes will open in May."
    assert is_english(english) and english_ratio(english) > 0.3
    assert not looks_english_headline("東京で新しい橋が開通")

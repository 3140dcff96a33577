"""The compact word-class table against lemminflect's own lookup."""

from __future__ import annotations

import lemminflect

from digest.summarize.wordclass import _table, word_classes


def test_the_table_gives_lemminflects_classes_for_every_word() -> None:
    words = [w for w in _table() if w.isalpha() and w.islower()]
    assert len(words) > 60_000
    differ = [w for w in words if word_classes(w) != frozenset(lemminflect.getAllLemmas(w))]
    assert differ == []


def test_classes_of_common_words() -> None:
    assert word_classes("authority") == {"NOUN"}
    assert word_classes("charges") == {"NOUN", "VERB"}
    assert word_classes("establish") == {"VERB"}
    assert "ADV" in word_classes("quickly")
    # Function words, capitalised and non-alphabetic tokens have no class here.
    assert word_classes("the") == frozenset()
    assert word_classes("Authority") == frozenset()
    assert word_classes("5,000") == frozenset()

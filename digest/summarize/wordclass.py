"""Which word classes an English word can have, from lemminflect's lexicon, in little memory.

    word_classes("charges") -> frozenset({"NOUN", "VERB"})
    word_classes("the") -> frozenset()      # function words, unknown words

The table is lemminflect's own lookup file (`lemma_lu.csv.gz`, 80,676 rows from the SPECIALIST
lexicon, plus its overrides), read once into one frozenset per word: about 9 MB, where
`lemminflect.getAllLemmas` keeps every lemma spelling and costs about 50 MB. The classes are the
same as `getAllLemmas`' keys (a test checks every word). Without lemminflect the table is empty,
and callers fall back on their own word lists.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterable
from functools import cache
from importlib import resources

log = logging.getLogger(__name__)

_UPOS = {"adj": "ADJ", "adv": "ADV", "aux": "AUX", "noun": "NOUN", "verb": "VERB"}


_BITS = {"ADJ": 1, "ADV": 2, "AUX": 4, "NOUN": 8, "VERB": 16, "PROPN": 32}


@cache
def _table() -> dict[str, frozenset[str]]:
    try:
        folder = resources.files("lemminflect") / "resources"
        with (
            (folder / "lemma_lu.csv.gz").open("rb") as f,
            gzip.open(f, "rt", encoding="utf-8") as rows,
        ):
            bits = _read(rows, lower=True)
        with (folder / "lemma_overrides.csv").open("r", encoding="utf-8") as rows:
            for word, b in _read(rows, lower=False).items():
                bits[word] = bits.get(word, 0) | b
    except (ModuleNotFoundError, OSError) as e:
        log.warning(
            "word classes: lemminflect's lexicon cannot be read (%s); checks use word lists", e
        )
        return {}
    sets = {
        b: frozenset(name for name, bit in _BITS.items() if b & bit) for b in set(bits.values())
    }
    table: dict[str, frozenset[str]] = {}
    while bits:  # one frozenset per distinct set, and never two dicts of 70,000 words at once
        word, b = bits.popitem()
        table[word] = sets[b]
    return table


def _read(rows: Iterable[str], *, lower: bool) -> dict[str, int]:
    """word -> class bits, from lines "word,class,lemmas" (lookup: lowercase class names)."""
    bits: dict[str, int] = {}
    for line in rows:
        if not line.strip() or line.startswith("#"):
            continue
        word, name, _ = line.split(",", 2)
        bit = _BITS.get(_UPOS.get(name, name) if lower else name, 0)
        bits[word] = bits.get(word, 0) | bit
    return bits


def word_classes(word: str) -> frozenset[str]:
    """The classes ("NOUN", "VERB", "ADJ", "ADV", "AUX") a lowercase word can have; empty for a
    capitalised or non-alphabetic token, a function word, or a word the lexicon lacks."""
    if not word.isalpha() or not word.islower():
        return frozenset()
    return _table().get(word, frozenset())

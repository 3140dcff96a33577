"""The sentence-compression data: reading it, keep labels, the fixed split, and the scores.

The data (Google's sentence-compression pairs, `../shared/data/sentence-compression-dev.csv`) has
columns `original` and `compressed`, tokens separated by spaces; the compression is a subsequence
of the original's tokens, aligned greedily left to right to give each original token a keep label.
The split is by a hash of the original sentence, so it is the same on every machine and a sentence
never moves between training and evaluation: `eval` (15%) is only ever scored, `val` (10%) picks
the epoch and the threshold, `train` (75%) trains.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import DigestError

DEFAULT_DATA = Path("../shared/data/sentence-compression-dev.csv")


@dataclass(frozen=True)
class Pair:
    """One sentence (its tokens) and the gold keep label of each token."""

    tokens: tuple[str, ...]
    keep: tuple[bool, ...]

    @property
    def text(self) -> str:
        """The original as tokenised in the data (tokens joined by spaces)."""
        return " ".join(self.tokens)


def split_of(tokens: Sequence[str]) -> str:
    """ "train", "val" or "eval" for a sentence, from a hash of its tokens."""
    bucket = int(hashlib.sha1(" ".join(tokens).encode("utf-8")).hexdigest()[:8], 16) % 100
    return "eval" if bucket < 15 else "val" if bucket < 25 else "train"


def align(original: Sequence[str], compressed: Sequence[str]) -> list[bool] | None:
    """Keep labels: each compressed token matched to the next equal original token, else None."""
    keep = [False] * len(original)
    i = 0
    for token in compressed:
        while i < len(original) and original[i] != token:
            i += 1
        if i == len(original):
            return None
        keep[i] = True
        i += 1
    return keep


def load_pairs(path: Path = DEFAULT_DATA, split: str | None = None) -> list[Pair]:
    """The pairs in the data file (only those of `split` if given); DigestError if unreadable."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise DigestError(f"{path}: cannot read the compression data: {e.strerror}") from None
    pairs = []
    for n, row in enumerate(rows, start=2):
        try:
            original, compressed = row["original"].split(), row["compressed"].split()
        except (KeyError, AttributeError):
            raise DigestError(f"{path}: line {n}: needs columns original, compressed") from None
        keep = align(original, compressed)
        if keep is None or not original:
            continue  # not a deletion of the original: cannot be labelled
        if split is None or split_of(original) == split:
            pairs.append(Pair(tuple(original), tuple(keep)))
    return pairs


_NO_SPACE_BEFORE = {
    ",",
    ".",
    "'s",
    "n't",
    ")",
    "%",
    ";",
    ":",
    "?",
    "!",
    "'re",
    "'ve",
    "'ll",
    "'d",
    "'m",
    "'S",
    "...",
    "''",
}


def detokenize(tokens: Sequence[str]) -> str:
    """Plain text from the data's tokens ("Smith 's dog , did n't" -> "Smith's dog, didn't")."""
    out = ""
    quote_open = False
    i = 0
    toks = list(tokens)
    while i < len(toks):
        t = toks[i]
        if t in ("`", "'") and i + 1 < len(toks) and toks[i + 1] == t:
            t = "``" if t == "`" else "''"
            i += 1
        if t == "``":
            out += (" " if out else "") + '"'
            quote_open = True
        elif t == "''":
            out += '"'
            quote_open = False
        elif t in _NO_SPACE_BEFORE or not out:
            out += t
        elif t == "-" and i + 1 < len(toks) and re.match(r"\w", toks[i + 1]) and out[-1:].isalnum():
            out += "-" + toks[i + 1]
            i += 1
        elif out.endswith(("(", "$", '"')) and (out[-1] != '"' or quote_open):
            out += t
        else:
            out += " " + t
        i += 1
    return out


def mask_on(pair: Pair, tokens: Sequence[str], mask: Sequence[bool]) -> list[bool]:
    """A compressor's keep mask on its own tokens carried over to the data's tokens."""
    if list(tokens) == list(pair.tokens):
        return list(mask)
    kept: list[str] = []
    for t, k in zip(tokens, mask, strict=True):
        if k:  # "mid-quarter" is three tokens in the data
            kept.extend(x for x in re.split(r"(-)", t) if x)
    quotes = {'"': ["`", "`"], "“": ["`", "`"], "”": ["'", "'"]}
    kept = [y for x in kept for y in quotes.get(x, [x])]
    out = [False] * len(pair.tokens)
    i = 0
    for t in kept:
        j = i
        while j < len(pair.tokens) and pair.tokens[j] != t:
            j += 1
        if j < len(pair.tokens):
            out[j] = True
            i = j + 1
    return out


def scores(predicted: Iterable[Sequence[bool]], gold: Iterable[Sequence[bool]]) -> dict[str, float]:
    """Keep-token F1 (pooled over tokens, and the mean per sentence) and the compression ratio."""
    tp = fp = fn = 0
    kept = total = 0
    per_sentence = []
    ratios = []
    for p, g in zip(predicted, gold, strict=True):
        a = sum(1 for x, y in zip(p, g, strict=True) if x and y)
        b = sum(1 for x, y in zip(p, g, strict=True) if x and not y)
        c = sum(1 for x, y in zip(p, g, strict=True) if y and not x)
        tp, fp, fn = tp + a, fp + b, fn + c
        prec = a / (a + b) if a + b else 0.0
        rec = a / (a + c) if a + c else 0.0
        per_sentence.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
        kept += sum(p)
        total += len(p)
        ratios.append(sum(p) / len(p) if len(p) else 0.0)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    count = len(per_sentence)
    return {
        "sentences": float(count),
        "f1": f1,
        "precision": precision,
        "recall": recall,
        "f1_per_sentence": sum(per_sentence) / count if count else 0.0,
        "ratio": sum(ratios) / count if count else 0.0,
        "ratio_pooled": kept / total if total else 0.0,
    }

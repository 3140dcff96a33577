"""The same-event test: embeddings, a time window, and evidence from names and numbers.

Two write-ups of one event are close in embedding space AND name the same people, places and
organisations AND, when both quote figures, quote some of the same ones. Two events on one topic
(two court rulings, two quakes, one company's recall and its earnings) may be close in embedding
space, but they name different parties or quote different figures. The score is

    score = cosine + NAME_BONUS * min(name_overlap, 1) + NUMBER_BONUS * min(shared_numbers, 2)
            - CONFLICT_PENALTY * (both quote figures and share none)

and an article joins a story when `score >= same_event` with at least one shared name, the
cosine is at least `min_cosine`, the two are within the window, and the article is on average
close to the whole story (`story_floor`), which stops a chain A~B~C from drifting off the event.
`name_overlap` is an IDF-weighted overlap coefficient: sharing "Antofagasta" says more than
sharing "Ukraine" when half the window is about Ukraine.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds of the same-event level; each embedder has its own scale."""

    same_event: float = 0.80
    min_cosine: float = 0.55
    story_floor: float = 0.50
    name_bonus: float = 0.10
    number_bonus: float = 0.08
    conflict_penalty: float = 0.20
    candidates: int = 20  # nearest window articles looked at per new article


# Chosen on the labelled fixtures (eval/clustering.py); see BENCHMARKS.md.
MINILM_THRESHOLDS = Thresholds()
# Bag-of-words cosines of paraphrases are much lower than MiniLM's; the twin leans on names.
HASHING_THRESHOLDS = Thresholds(same_event=0.38, min_cosine=0.15, story_floor=0.12)


def thresholds_for(embedder_name: str) -> Thresholds:
    """The tuned thresholds for an embedder (MiniLM's for any unknown model)."""
    if embedder_name.startswith("hashing"):
        return HASHING_THRESHOLDS
    return MINILM_THRESHOLDS


@dataclass
class Doc:
    """An article as the clusterer compares it (from the store or from this batch)."""

    key: str
    story_id: str | None
    at: datetime  # publication time (clamped to when it was seen), else when it was seen
    names: frozenset[str]
    numbers: frozenset[str]
    thin: tuple[str, ...]
    ident_url: str | None = None
    content_hash: str | None = None
    title: str = ""
    short: bool = False  # a headline-only item: compared on its headline (headlines.py)
    row: int = -1  # index of its vector in the comparison matrix, -1 when it has none
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def comparable(self) -> bool:
        """Whether it has enough evidence for the same-event level."""
        return not self.thin


class NameWeights:
    """Inverse document frequency of names over the window: rare names are strong evidence."""

    def __init__(self, docs: Iterable[Doc]) -> None:
        self.df: dict[str, int] = {}
        self.n = 0
        self._cache: dict[str, float] = {}
        for d in docs:
            self.n += 1
            for name in d.names:
                self.df[name] = self.df.get(name, 0) + 1

    def weight(self, name: str) -> float:
        """log((N + 1) / (df + 0.5)), smoothed so a tiny window does not over-trust names."""
        cached = self._cache.get(name)
        if cached is None:
            # +10 keeps weights sane in a window of a handful of articles (a first run).
            n = self.n + 10
            cached = self._cache[name] = math.log((n + 1) / (self.df.get(name, 0) + 0.5))
        return cached

    def total(self, names: Iterable[str]) -> float:
        """Sum of weights."""
        return sum(self.weight(n) for n in names)

    def doc_total(self, doc: Doc) -> float:
        """Sum of the weights of a document's names, computed once per document."""
        cached = doc.extra.get("name_total")
        if cached is None:
            cached = doc.extra["name_total"] = self.total(doc.names)
        return float(cached)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing two documents at the same-event level."""

    same: bool
    score: float
    evidence: str


def _fmt_names(names: Iterable[str], weights: NameWeights, limit: int = 5) -> str:
    ranked = sorted(names, key=lambda n: (-weights.weight(n), n))
    # "tiff macklem" and "macklem" say the same thing twice; keep the longer form.
    shown: list[str] = []
    for n in ranked:
        if any(n in s.split() for s in shown) or any(s in n.split() for s in shown):
            continue
        shown.append(n)
        if len(shown) == limit:
            break
    return ", ".join(shown)


def same_event(a: Doc, b: Doc, cosine: float, weights: NameWeights, th: Thresholds) -> Verdict:
    """Whether two comparable documents report one event, with the evidence either way."""
    shared = a.names & b.names
    wa, wb = weights.doc_total(a), weights.doc_total(b)
    overlap = weights.total(shared) / min(wa, wb) if shared and min(wa, wb) > 0 else 0.0
    nums = a.numbers & b.numbers
    conflict = bool(a.numbers) and bool(b.numbers) and not nums
    score = (
        cosine
        + th.name_bonus * min(overlap, 1.0)
        + th.number_bonus * min(len(nums), 2)
        - (th.conflict_penalty if conflict else 0.0)
    )
    hours = abs((a.at - b.at).total_seconds()) / 3600
    parts = [f"cosine {cosine:.2f}"]
    if shared:
        parts.append(f"names: {_fmt_names(shared, weights)}")
    else:
        parts.append("no shared names")
    if nums:
        parts.append("numbers: " + ", ".join(sorted(nums)[:5]))
    elif conflict:
        parts.append(
            "figures differ ("
            + ", ".join(sorted(a.numbers)[:3])
            + " vs "
            + ", ".join(sorted(b.numbers)[:3])
            + ")"
        )
    parts.append(f"{hours:.1f} h apart")
    same = bool(shared) and cosine >= th.min_cosine and score >= th.same_event
    return Verdict(same, round(score, 4), "; ".join(parts))


def facts_agree(a: Doc, b: Doc) -> bool:
    """Whether two near-identical texts also agree on names and figures.

    Templated stories (automated earnings notes, match results, weather warnings) share most of
    their wording but not their facts: those are different events, not one wire copy.
    """
    if a.numbers and b.numbers and not a.numbers & b.numbers:
        return False
    if len(a.names) >= 2 and len(b.names) >= 2:
        overlap = len(a.names & b.names) / min(len(a.names), len(b.names))
        if overlap < 0.5:
            return False
    return True

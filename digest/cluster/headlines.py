"""The same-event test for short items: a headline, perhaps with a one-line teaser.

A headline says too little for the long-article rules (a lead to embed, names confirmed in
running text, figures to compare), and too much to throw away: "EBay rejects Icahn slate of
directors" and "Ebay to Shareholders: Vote Against Icahn Nominees" are one event. A short item
is compared with a *story*, never with one member by chance: it is scored against every short
member of each candidate story (average linkage), from

- the headline embedding: mean and best cosine to the story's headlines;
- names in the headline (capitalised words and acronyms, case-folded and stemmed, so "EBay",
  "Ebay" and "eBay" are one name), IDF-weighted: how well they agree with each member's names
  on average, and how many of them the story's headlines carry at all;
- numbers in the headline: shared with the story, or in conflict with it;
- the story's size (a centroid over many headlines is a steadier target than one headline);
- the time gap, as a gate: members more than the window apart are not compared.

The weights of a logistic model over those features and its decision threshold are fitted on
data, never set by hand: `python eval/clustering.py --fit-headlines FILE` writes them to
`headline_weights.py` from the tune half of a labelled headline set (see BENCHMARKS.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .features import MIN_TITLE_TERMS, Features, headline_names
from .headline_weights import WEIGHTS
from .match import Doc, NameWeights, Verdict

__all__ = [
    "FEATURES",
    "MERGE_CANDIDATES",
    "MERGE_MIN_COSINE",
    "MERGE_SAMPLE",
    "HeadlineModel",
    "headline_names",
    "headline_score",
    "headline_verdict",
    "is_short",
    "model_for",
    "story_features",
]

# Thin reasons that say only "there is no article body": the headline can still be compared.
_SHORT_ONLY = ("empty text", "teaser:")
# Members compared per candidate story: the most recent ones (a story of 300 headlines is
# judged on its last 60, which are the ones a new headline is most likely to be like).
MAX_MEMBERS = 60
# Fragment merging: stories compared per touched story (nearest by centroid), the least centroid
# cosine worth scoring, and the recent headlines of the smaller story that are scored.
MERGE_CANDIDATES = 5
MERGE_MIN_COSINE = 0.4
MERGE_SAMPLE = 20

FEATURES = (
    "cos_centroid",
    "cos_mean",
    "cos_max",
    "name_mean",
    "name_support",
    "no_names",
    "num_shared",
    "num_conflict",
    "log_size",
)


def is_short(f: Features) -> bool:
    """Whether an item is a headline-only item: thin only for want of a body."""
    if not f.thin or not f.english or f.press_release:
        return False
    if len(f.title_terms) < MIN_TITLE_TERMS:
        return False
    return all(r.startswith(_SHORT_ONLY) for r in f.thin)


@dataclass(frozen=True)
class HeadlineModel:
    """A fitted logistic model over the story features, and the probability needed to join."""

    weights: dict[str, float]
    bias: float
    threshold: float
    fitted_on: str = ""
    # "average": against all the story's headlines (the default); "single": against the one
    # nearest headline only, the classic single link, kept to measure chaining in the eval.
    linkage: str = "average"
    # Mean P(same) of one story's headlines against another's at which two headline stories
    # merge (None: never merged after the fact).
    merge_threshold: float | None = None

    def probability(self, x: dict[str, float]) -> float:
        """P(same event) for one item against one story."""
        z = self.bias + sum(self.weights.get(k, 0.0) * v for k, v in x.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def contributions(self, x: dict[str, float]) -> list[tuple[str, float]]:
        """Each feature's share of the log-odds, largest magnitude first."""
        parts = [(k, self.weights.get(k, 0.0) * v) for k, v in x.items()]
        return sorted(parts, key=lambda kv: -abs(kv[1]))


def model_for(embedder_name: str) -> HeadlineModel:
    """The fitted headline model for an embedder (MiniLM's for any unknown model)."""
    key = "hashing" if embedder_name.startswith("hashing") else "minilm"
    w = WEIGHTS[key]
    merge = w.get("merge_threshold")
    return HeadlineModel(
        dict(w["weights"]),
        float(w["bias"]),
        float(w["threshold"]),
        str(w.get("fitted_on", "")),
        merge_threshold=float(merge) if merge is not None else None,
    )


def story_features(
    doc: Doc,
    members: Sequence[Doc],
    cosines: np.ndarray,
    weights: NameWeights,
    member_vectors: np.ndarray,
) -> dict[str, float]:
    """The features of one short item against the short members of one story."""
    total_vector = member_vectors.sum(axis=0)
    norm = float(np.linalg.norm(total_vector))
    w = {n: weights.weight(n) for n in doc.names}
    total = sum(w.values())
    if doc.names and total > 0:
        name_overlaps = [sum(w[n] for n in doc.names & m.names) / total for m in members]
        carried = frozenset().union(*(doc.names & m.names for m in members))
        support = sum(w[n] for n in carried) / total
    else:
        name_overlaps, support = [0.0], 0.0
    story_numbers: frozenset[str] = frozenset().union(*(m.numbers for m in members))
    shared_numbers = doc.numbers & story_numbers
    return {
        # Cosine to the story's centroid: steadier than any one headline in a large story.
        "cos_centroid": float(np.sum(cosines)) / norm if norm > 0 else 0.0,
        "cos_mean": float(np.mean(cosines)),
        "cos_max": float(np.max(cosines)),
        "name_mean": float(np.mean(name_overlaps)),
        "name_support": support,
        "no_names": 0.0 if doc.names else 1.0,
        "num_shared": 1.0 if shared_numbers else 0.0,
        "num_conflict": 1.0 if doc.numbers and story_numbers and not shared_numbers else 0.0,
        "log_size": math.log1p(len(members)),
    }


_LABELS = {
    "cos_centroid": "headline cosine to the story's centroid",
    "cos_mean": "headline cosine to the story (mean)",
    "cos_max": "closest headline",
    "name_mean": "names agree with the members",
    "name_support": "names carried by the story",
    "no_names": "no names in the headline",
    "num_shared": "shared numbers",
    "num_conflict": "numbers differ",
    "log_size": "story size",
}


def headline_score(
    doc: Doc,
    members: Sequence[Doc],
    cosines: np.ndarray,
    weights: NameWeights,
    model: HeadlineModel,
    member_vectors: np.ndarray,
) -> tuple[float, dict[str, float]]:
    """P(same event) of a short item and a story, and the features it came from."""
    x = story_features(doc, members, cosines, weights, member_vectors)
    return model.probability(x), x


def headline_verdict(
    doc: Doc,
    members: Sequence[Doc],
    cosines: np.ndarray,
    weights: NameWeights,
    model: HeadlineModel,
    hours: float,
    scored: tuple[float, dict[str, float]],
) -> Verdict:
    """Whether a short item joins a story (as scored), with the evidence that decided it."""
    p, x = scored
    shared = sorted(
        {n for m in members for n in doc.names & m.names},
        key=lambda n: (-weights.weight(n), n),
    )
    parts = [
        f"headline vs {len(members)} headline(s) of the story: cosine to centroid "
        f"{x['cos_centroid']:.2f}, mean {x['cos_mean']:.2f}, best {x['cos_max']:.2f}",
        ("names: " + ", ".join(shared[:5])) if shared else "no shared names",
    ]
    nums = sorted(doc.numbers & frozenset().union(*(m.numbers for m in members)))
    if nums:
        parts.append("numbers: " + ", ".join(nums[:3]))
    elif x["num_conflict"]:
        parts.append("numbers differ")
    parts.append(f"{hours:.1f} h apart")
    top = [(k, c) for k, c in model.contributions(x) if abs(c) >= 0.05][:3]
    decided = ", ".join(f"{_LABELS[k]} {c:+.1f}" for k, c in top)
    parts.append(f"P(same) {p:.2f} vs {model.threshold:.2f}, decided by {decided}")
    return Verdict(p >= model.threshold, round(p, 4), "; ".join(parts))

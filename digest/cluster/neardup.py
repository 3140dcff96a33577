"""Near-duplicate text: syndicated wire copy with small edits.

MinHash over word 3-shingles with an LSH index (datasketch). Measured against trafilatura's
Simhash on the labelled fixtures (see BENCHMARKS.md): MinHash separates wire copies
from different write-ups of the same event with a wide margin, Simhash does not (64 bits over a
sample of long words blur a 100-word article), so MinHash is the level's signal and Simhash is
kept only for that comparison.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from .features import shingles

NUM_PERM = 128
SCHEME = "affine32"  # pinned: signatures are stored, and datasketch's default may change
SEED = 1
# Estimated Jaccard of 3-shingles at or above which two bodies are one text with edits.
# Wire copies with a changed sentence or a cut last paragraph score 0.55-0.95 on the fixtures;
# rewrites of one event score under 0.1.
NEAR_DUP_JACCARD = 0.5
# Fewer shingles than this and the estimate is noise (a two-sentence teaser).
MIN_SHINGLES = 25


def _template() -> MinHash:
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)


class MinHasher:
    """Makes MinHash signatures; the permutations are drawn once and reused."""

    def __init__(self) -> None:
        self._permutations = _template().permutations

    def signature(self, text: str) -> LeanMinHash | None:
        """The signature of a body's 3-shingles, or None when it is too short to judge."""
        grams = shingles(text)
        if len(grams) < MIN_SHINGLES:
            return None
        mh = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=self._permutations, scheme=SCHEME)
        mh.update_batch(g.encode("utf-8") for g in grams)
        return LeanMinHash(mh)


def to_bytes(sig: LeanMinHash) -> bytes:
    """Hash values as little-endian uint64 bytes (the stored form)."""
    return np.asarray(sig.hashvalues, dtype="<u8").tobytes()


def from_bytes(blob: bytes) -> LeanMinHash:
    """A signature from its stored bytes."""
    values = np.frombuffer(blob, dtype="<u8")
    return LeanMinHash(seed=SEED, hashvalues=values, scheme=SCHEME)


def jaccard(a: LeanMinHash, b: LeanMinHash) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    return float(a.jaccard(b))


class NearDupIndex:
    """An LSH index over signatures: candidates sharing a band, without comparing all pairs."""

    def __init__(self, threshold: float = NEAR_DUP_JACCARD) -> None:
        # Index a little below the decision threshold so estimates near it are still looked at.
        self._lsh = MinHashLSH(threshold=max(threshold - 0.1, 0.1), num_perm=NUM_PERM)
        self._sigs: dict[str, LeanMinHash] = {}

    def add(self, key: str, sig: LeanMinHash) -> None:
        """Index a signature under an article key (once per key)."""
        if key in self._sigs:
            return
        self._lsh.insert(key, sig)
        self._sigs[key] = sig

    def remove(self, key: str) -> None:
        """Drop a key (it left the time window)."""
        if self._sigs.pop(key, None) is not None:
            self._lsh.remove(key)

    def __contains__(self, key: object) -> bool:
        return key in self._sigs

    def keys(self) -> list[str]:
        """The indexed keys."""
        return list(self._sigs)

    def candidates(self, sig: LeanMinHash) -> Iterable[tuple[str, float]]:
        """(key, estimated Jaccard) for indexed signatures that share an LSH band."""
        for key in self._lsh.query(sig):
            yield key, jaccard(sig, self._sigs[key])

    def __len__(self) -> int:
        return len(self._sigs)


def simhash_similarity(a: str, b: str) -> float:
    """trafilatura's Simhash similarity of two texts (for the comparison in the eval)."""
    from trafilatura.deduplication import Simhash

    return Simhash(a).similarity(Simhash(b))

"""Stories, not items: group articles about one event, across outlets and across runs.

Three levels of sameness, tried in order for each new article, each recorded with its score and
evidence (`Clusterer.explain`):

1. identical: the same page (canonical URL ignoring scheme and "www.") or the same text (content
   hash of a body long enough to be an identity), looked up in an index over all history;
2. near_duplicate: wire copy with small edits, MinHash over 3-word shingles with an LSH index
   over the time window (`neardup.py`);
3. same_event: a different write-up of the same event, from MiniLM embeddings within the time
   window plus evidence from names and numbers (`match.py`).

Thin evidence never merges at levels 2-3: empty text, teasers, press-release boilerplate, very
short titles and non-English items stay their own story unless they are the identical page.

Incremental: only the new articles are embedded; candidates come from the window
(`window_hours` either side of the article's time, an indexed range scan) and, within it, the
nearest neighbours by cosine and the LSH buckets, never from all of history. Story ids are
derived from the founding article's key and never change, so the delivery ledger, keyed by
story id, never resends a story because a new outlet joined it. The one exception: two headline
stories found after the fact to be one event merge (the older id stays, or the delivered one's;
two stories that were both delivered, queued or voted on are never merged).
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

import numpy as np
from datasketch import LeanMinHash

from ..config import ClusterSettings
from ..embed import Embedder
from ..models import Article, Clock, MergeReason, Story
from ..store import FragmentMerge, IndexedArticle, StoryHead, StoryIndex, StoryWrite
from .features import MIN_BODY_WORDS, Features, article_features
from .headlines import (
    MAX_MEMBERS,
    MERGE_CANDIDATES,
    MERGE_MIN_COSINE,
    MERGE_SAMPLE,
    HeadlineModel,
    headline_score,
    headline_verdict,
    is_short,
    model_for,
)
from .match import (
    Doc,
    NameWeights,
    Thresholds,
    Verdict,
    facts_agree,
    same_event,
    thresholds_for,
)
from .neardup import NEAR_DUP_JACCARD, MinHasher, NearDupIndex, from_bytes, to_bytes
from .rank import rank, story_score

__all__ = ["Clusterer", "rank", "story_score", "story_id_for", "Thresholds"]

log = logging.getLogger(__name__)

# A feed may date an item in the future (time zones, scheduled posts); it is clamped to when
# it was seen so it cannot hold a window open.
_CHUNK = 512  # rows of the batch-by-window similarity matrix computed at a time
# Reading an article (names, numbers, boilerplate, the MinHash of its shingles) is half of
# what clustering costs per article; in a session, batches this big are read in a process pool.
MIN_ARTICLES_FOR_PROCESSES = 48


@cache
def _minhasher() -> MinHasher:
    return MinHasher()  # its permutations come from a fixed seed: the same in every process


def _read(article: Article) -> tuple[Features, LeanMinHash | None]:
    """An article's features and the MinHash of its body (None when too short)."""
    f = article_features(article)
    return f, _minhasher().signature(f.body) if f.body_words else None


def _read_in_pool(article: Article) -> tuple[Features, bytes | None]:
    """`_read` in a pool process: the signature crosses back as its stored bytes."""
    f, sig = _read(article)
    return f, to_bytes(sig) if sig is not None else None


def story_id_for(article_key: str) -> str:
    """The id of a story founded by this article: stable, short, the same on every machine."""
    return "st-" + hashlib.sha256(article_key.encode("utf-8")).hexdigest()[:16]


@dataclass
class _New:
    """A batch article on its way through the levels."""

    article: Article
    features: Features
    doc: Doc
    vector: np.ndarray | None
    sig: LeanMinHash | None
    merge: MergeReason | None = None


@dataclass
class _Window:
    """The index rows of [lo, hi] as the store holds them, kept across the `add` calls of one
    `Clusterer.session`: loaded once (and widened when a call needs more), then updated with
    exactly what each call wrote, re-read from the store."""

    lo: datetime | None = None
    hi: datetime | None = None
    rows: dict[str, IndexedArticle] = field(default_factory=dict)
    _ordered: list[IndexedArticle] | None = None

    def put(self, rows: Sequence[IndexedArticle]) -> None:
        for r in rows:
            self.rows[r.key] = r
        self._ordered = None

    def between(self, lo: datetime, hi: datetime) -> list[IndexedArticle]:
        if self._ordered is None:
            self._ordered = sorted(self.rows.values(), key=lambda r: (r.at, r.key))
        return [r for r in self._ordered if lo <= r.at <= hi]


class Clusterer:
    """Assigns newly stored articles to stories and remembers why."""

    def __init__(
        self,
        store: StoryIndex,
        embedder: Embedder,
        settings: ClusterSettings,
        clock: Clock,
        *,
        thresholds: Thresholds | None = None,
        headline_model: HeadlineModel | None = None,
        processes: int = 1,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.clock = clock
        self.thresholds = thresholds or thresholds_for(embedder.name)
        self.headline_model = headline_model or model_for(embedder.name)
        self._index = NearDupIndex(NEAR_DUP_JACCARD)
        self.processes = processes  # reading articles, within a session (see `session`)
        self._pool: ProcessPoolExecutor | None = None
        self.timings: dict[str, float] = {}  # seconds per phase of the last `add` (for bench/)
        # When a list: (article key, story id, features) of every story a headline-only item
        # was scored against, for fitting the headline model on the states a run really meets.
        self.headline_log: list[tuple[str, str, dict[str, float]]] | None = None
        self._window: _Window | None = None  # set within `session`

    # --- public -------------------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[None]:
        """Within it, consecutive `add` calls keep the window's index rows in memory instead of
        reading the whole window from the store on every call: what a backlog clustered a
        slice at a time (the pipeline's) would otherwise read again and again.

        The stories are the same as without it: rows are loaded once, the window widened from
        the store when a call reaches past it, and what each call writes (its articles, merges
        and re-embedded vectors) is read back from the store. It assumes what one `add` call
        already does: nobody else clusters into this state meanwhile (the pipeline holds the
        run while it clusters).
        """
        self._window = _Window()
        try:
            yield
        finally:
            self._window = None
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
                self._pool = None

    def add(self, articles: Sequence[Article]) -> list[Story]:
        """Assign new articles to stories (existing ones within the window, or new ones).

        Articles already clustered are skipped, so calling this twice with the same articles is
        harmless. Articles not yet in the store are stored first. Returns every story touched,
        with all its members, in the order they were first touched.
        """
        import time

        self.timings = {}
        t0 = time.perf_counter()
        now = self.clock()
        todo = self._unclustered(articles)
        if not todo:
            return []
        known = self.store.known_keys([a.key for a in todo])
        missing = [a for a in todo if a.key not in known]
        if missing:
            self.store.add_articles(missing, now)
        batch = self._prepare(todo, now)
        t1 = time.perf_counter()
        self.timings["prepare"] = t1 - t0
        self._embed(batch)
        t2 = time.perf_counter()
        self.timings["embed"] = t2 - t1

        window = timedelta(hours=self.settings.window_hours)
        lo = min(n.doc.at for n in batch) - window
        hi = max(n.doc.at for n in batch) + window
        history, hist_vectors = self._load_window(lo, hi)
        t3 = time.perf_counter()
        self.timings["load"] = t3 - t2

        touched, merged = self._assign(batch, history, hist_vectors, now, window)
        t4 = time.perf_counter()
        self.timings["assign"] = t4 - t3
        stories = self._persist(batch, touched, history, hist_vectors, now, merged)
        self.timings["persist"] = time.perf_counter() - t4
        log.debug(
            "cluster: %d articles, %d in window, %d stories touched",
            len(batch),
            len(history),
            len(stories),
        )
        return stories

    def explain(self, story_id: str) -> list[MergeReason]:
        """Why each member after the first joined the story, in the order they joined."""
        return self.store.merge_reasons(story_id)

    def thin_reasons(self, article_key: str) -> tuple[str, ...]:
        """Why an article was kept from merging on thin evidence (empty when it was not)."""
        return self.store.thin_reasons(article_key)

    # --- preparation --------------------------------------------------------------------------

    def _unclustered(self, articles: Sequence[Article]) -> list[Article]:
        unique = list({a.key: a for a in articles}.values())
        done = self.store.clustered_keys([a.key for a in unique])
        return [a for a in unique if a.key not in done]

    def _read_all(self, articles: Sequence[Article]) -> list[tuple[Features, LeanMinHash | None]]:
        """`_read` of each article: in a process pool (`processes` of them, started with
        forkserver, kept for the session) when in a session with a batch big enough. Reading
        is a pure function of the article, so the stories are the same either way."""
        if (
            self._window is None
            or self.processes <= 1
            or len(articles) < MIN_ARTICLES_FOR_PROCESSES
        ):
            return [_read(a) for a in articles]
        try:
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                self._pool = ProcessPoolExecutor(self.processes, mp_context=context)
            chunk = max(1, len(articles) // (self.processes * 4))
            read = list(self._pool.map(_read_in_pool, articles, chunksize=chunk))
        except (BrokenProcessPool, OSError) as e:
            log.warning(
                "cluster: the reading pool failed (%s); reading here", e or type(e).__name__
            )
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
            self._pool = None
            self.processes = 1
            return [_read(a) for a in articles]
        return [(f, from_bytes(b) if b is not None else None) for f, b in read]

    def _prepare(self, articles: Sequence[Article], now: datetime) -> list[_New]:
        batch = []
        for a, (f, sig) in zip(articles, self._read_all(articles), strict=True):
            # Aware, as every record's datetime is: a feed's future date is clamped to now.
            at = min(a.published if a.published is not None else now, now)
            short = is_short(f)
            doc = Doc(
                key=a.key,
                story_id=None,
                at=at,
                names=f.names,
                numbers=f.numbers,
                thin=f.thin,
                short=short,
                ident_url=f.ident_url,
                # An empty or two-line body is shared by unrelated items: not an identity.
                content_hash=a.content_hash if f.body_words >= MIN_BODY_WORDS else None,
                title=f.title,
            )
            batch.append(_New(a, f, doc, None, sig))
        # Time order, then key: the same articles always give the same stories.
        batch.sort(key=lambda n: (n.doc.at, n.doc.key))
        return batch

    def _embed(self, batch: list[_New]) -> None:
        # Thin articles never reach the same-event level, so they are not embedded; headline-only
        # items are, by their headline alone.
        wanted = [n for n in batch if n.doc.comparable or n.doc.short]
        if not wanted:
            return
        texts = [n.features.title if n.doc.short else n.features.lead for n in wanted]
        vectors = np.asarray(self.embedder.embed(texts), np.float32)
        for n, v in zip(wanted, vectors, strict=True):
            n.vector = v

    def _load_window(self, lo: datetime, hi: datetime) -> tuple[list[Doc], np.ndarray]:
        docs: list[Doc] = []
        vectors: list[np.ndarray] = []
        stale: list[Doc] = []
        for r in self._window_rows(lo, hi):
            terms = r.terms
            doc = Doc(
                key=r.key,
                story_id=r.story_id,
                at=r.at,
                names=frozenset(terms.get("names", ())),
                numbers=frozenset(terms.get("numbers", ())),
                thin=r.thin,
                ident_url=r.ident_url,
                content_hash=r.content_hash,
                title=terms.get("title", ""),
                short=bool(terms.get("short", False)),
            )
            if r.minhash:
                doc.extra["sig_bytes"] = r.minhash  # decoded only if not yet indexed
            if doc.comparable or doc.short:
                if r.model != self.embedder.name or not r.vector:
                    stale.append(doc)
                else:
                    doc.row = len(vectors)
                    vectors.append(np.frombuffer(r.vector, dtype=np.float32))
            docs.append(doc)
        if stale:
            vectors.extend(self._reembed(stale, len(vectors)))
        dim = vectors[0].shape[0] if vectors else 0
        matrix = np.vstack(vectors) if vectors else np.zeros((0, dim), np.float32)
        return docs, matrix

    def _window_rows(self, lo: datetime, hi: datetime) -> list[IndexedArticle]:
        """The store's index rows within [lo, hi], by time then key (from the session's copy
        when in one)."""
        w = self._window
        if w is None:
            return sorted(self.store.load_window(lo, hi), key=lambda r: (r.at, r.key))
        # The store keeps times to the second and compares the bounds so: as it would.
        lo, hi = lo.replace(microsecond=0), hi.replace(microsecond=0)
        if w.lo is None or w.hi is None:
            w.put(self.store.load_window(lo, hi))
            w.lo, w.hi = lo, hi
        else:
            if lo < w.lo:
                w.put(self.store.load_window(lo, w.lo))
                w.lo = lo
            if hi > w.hi:
                w.put(self.store.load_window(w.hi, hi))
                w.hi = hi
        return w.between(lo, hi)

    def _reread(self, keys: Sequence[str]) -> None:
        """Refresh the session's copy of these rows from the store (after writing them)."""
        if self._window is not None and keys:
            self._window.put(self.store.index_rows(list(keys)))

    def _reembed(self, docs: list[Doc], start: int) -> list[np.ndarray]:
        """Vectors made by another embedder are not comparable: embed those articles again."""
        stored = {a.key: a for a in self.store.articles([d.key for d in docs])}
        leads = []
        for d in docs:
            article = stored.get(d.key)
            if d.short or article is None:
                leads.append(article_features(article).title if article else d.title)
            else:
                leads.append(article_features(article).lead)
        vectors = np.asarray(self.embedder.embed(leads), np.float32)
        for i, d in enumerate(docs):
            d.row = start + i
        self.store.update_vectors(
            self.embedder.name, [(d.key, v.tobytes()) for d, v in zip(docs, vectors, strict=True)]
        )
        self._reread([d.key for d in docs])
        log.info("cluster: re-embedded %d window articles with %s", len(docs), self.embedder.name)
        return list(vectors)

    # --- assignment ---------------------------------------------------------------------------

    def _identical(self, doc: Doc, seen_url: dict[str, Doc], seen_hash: dict[str, Doc]):
        """(story_id, evidence) of an identical article anywhere in history, else None."""
        if doc.ident_url:
            if doc.ident_url in seen_url:
                return seen_url[doc.ident_url].story_id, f"same page: {doc.ident_url}"
            found = self.store.find_identical(ident_url=doc.ident_url)
            if found:
                return found, f"same page: {doc.ident_url}"
        if doc.content_hash:
            short = doc.content_hash[:12]
            if doc.content_hash in seen_hash:
                return seen_hash[doc.content_hash].story_id, f"same text (sha256 {short}…)"
            found = self.store.find_identical(content_hash=doc.content_hash)
            if found:
                return found, f"same text (sha256 {short}…)"
        return None

    def _assign(
        self,
        batch: list[_New],
        history: list[Doc],
        hist_vectors: np.ndarray,
        now: datetime,
        window: timedelta,
    ) -> tuple[list[str], list[FragmentMerge]]:
        th = self.thresholds
        weights = NameWeights([*history, *(n.doc for n in batch)])
        index = self._near_dup_index(history)
        by_key: dict[str, Doc] = {}
        seen_url: dict[str, Doc] = {}
        seen_hash: dict[str, Doc] = {}
        members: dict[str, list[Doc]] = {}
        for d in history:
            by_key[d.key] = d
            if d.story_id:
                members.setdefault(d.story_id, []).append(d)

        # Similarities of every batch article to the window and to the batch, in chunks.
        n_hist = hist_vectors.shape[0]
        comparable = [n for n in batch if n.vector is not None]
        vectors = [n.vector for n in comparable if n.vector is not None]
        dim = vectors[0].shape[0] if vectors else 0
        batch_vectors = (np.vstack(vectors) if vectors else np.zeros((0, dim))).astype(np.float32)
        if dim and hist_vectors.shape[1:] != (dim,):
            # Nothing stored yet, or vectors of another size (another model's leftovers).
            hist_vectors = np.zeros((0, dim), np.float32)
            n_hist = 0
            for d in history:
                d.row = -1
        all_vectors = np.vstack([hist_vectors, batch_vectors]) if dim else hist_vectors
        for i, n in enumerate(comparable):
            n.doc.row = n_hist + i
        row_docs: list[Doc | None] = [None] * (n_hist + len(comparable))
        for d in history:
            if d.row >= 0:
                row_docs[d.row] = d
        for n in comparable:
            row_docs[n.doc.row] = n.doc
        # Rows that may be matched: assigned history now, batch rows once they are assigned.
        assigned = np.array([d is not None and d.story_id is not None for d in row_docs], bool)
        # Headline rows are compared only with headline rows, long ones only with long ones: a
        # headline's vector is not on the scale of a lead's.
        short_rows = np.array([d is not None and d.short for d in row_docs], bool)
        sims_for: dict[str, np.ndarray] = {}
        for start in range(0, len(comparable), _CHUNK):
            part = comparable[start : start + _CHUNK]
            block = np.stack([p.vector for p in part]) @ all_vectors.T  # type: ignore[misc]
            for p, row in zip(part, block, strict=True):
                sims_for[p.doc.key] = row

        touched: list[str] = []
        for n in batch:
            doc = n.doc
            verdict = self._identical(doc, seen_url, seen_hash)
            if verdict is not None and verdict[0]:
                doc.story_id = verdict[0]
                n.merge = MergeReason(doc.key, "identical", 1.0, verdict[1])
            if doc.story_id is None and n.sig is not None:
                best: tuple[float, Doc] | None = None
                for key, jac in index.candidates(n.sig):
                    other = by_key.get(key)
                    if other is None or other.story_id is None:
                        continue
                    if abs(other.at - doc.at) > window or jac < NEAR_DUP_JACCARD:
                        continue
                    if not facts_agree(doc, other):
                        continue
                    if best is None or (jac, other.key) > (best[0], best[1].key):
                        best = (jac, other)
                if best is not None:
                    doc.story_id = best[1].story_id
                    evidence = (
                        f"text {best[0]:.0%} the same as {best[1].key} (MinHash of 3-word shingles)"
                    )
                    n.merge = MergeReason(doc.key, "near_duplicate", round(best[0], 4), evidence)
            # The same event: a headline-only item among headline-only ones, else full texts.
            found = None
            if doc.story_id is None and doc.short and doc.key in sims_for:
                found = self._best_headline_story(
                    doc,
                    sims_for[doc.key],
                    assigned & short_rows,
                    row_docs,
                    members,
                    weights,
                    window,
                    all_vectors,
                )
            if found is None and doc.story_id is None and doc.comparable and doc.key in sims_for:
                found = self._best_story(
                    doc,
                    sims_for[doc.key],
                    assigned & ~short_rows,
                    row_docs,
                    members,
                    weights,
                    th,
                    window,
                )
            if found is not None:
                doc.story_id, verdict_same = found
                n.merge = MergeReason(
                    doc.key, "same_event", verdict_same.score, verdict_same.evidence
                )
            if doc.story_id is None:
                doc.story_id = story_id_for(doc.key)
            # The article is now a candidate for the rest of the batch.
            by_key[doc.key] = doc
            members.setdefault(doc.story_id, []).append(doc)
            if n.sig is not None:
                index.add(doc.key, n.sig)
            if doc.ident_url:
                seen_url.setdefault(doc.ident_url, doc)
            if doc.content_hash:
                seen_hash.setdefault(doc.content_hash, doc)
            if doc.row >= 0:
                assigned[doc.row] = True
            if doc.story_id not in touched:
                touched.append(doc.story_id)
        merged = self._merge_fragments(touched, members, all_vectors, weights, window)
        return touched, merged

    def _near_dup_index(self, history: list[Doc]) -> NearDupIndex:
        """The LSH index over the window, kept between runs of this process.

        Only articles that entered the window since the last call are inserted and those that
        left it are removed; a new process builds it from the stored signatures. LSH answers do
        not depend on insertion order, so both give the same candidates.
        """
        index = self._index
        wanted = {d.key for d in history if d.extra.get("sig_bytes")}
        for key in index.keys():
            if key not in wanted:
                index.remove(key)
        for d in history:
            blob = d.extra.get("sig_bytes")
            if blob and d.key not in index:
                index.add(d.key, from_bytes(blob))  # type: ignore[arg-type]
        return index

    def _best_story(
        self,
        doc: Doc,
        sims: np.ndarray,
        eligible: np.ndarray,
        row_docs: list[Doc | None],
        members: dict[str, list[Doc]],
        weights: NameWeights,
        th: Thresholds,
        window: timedelta,
    ):
        """(story_id, verdict) of the best story this article joins at the same-event level."""
        # Only rows already assigned (history, and batch articles before this one) count.
        if not eligible.any():
            return None
        masked = np.where(eligible, sims, -np.inf)
        k = min(th.candidates, int(eligible.sum()))
        top = np.argpartition(-masked, k - 1)[:k]
        best = None
        for row in sorted(top.tolist(), key=lambda r: (-masked[r], r)):
            cosine = float(masked[row])
            other = row_docs[row]
            if other is None or cosine < th.min_cosine:
                continue
            if abs(other.at - doc.at) > window:
                continue
            verdict = same_event(doc, other, cosine, weights, th)
            if not verdict.same:
                continue
            # Anti-chaining: close to the story as a whole, not just to one member of it.
            story_rows = [
                m.row for m in members.get(other.story_id or "", []) if m.row >= 0 and not m.short
            ]
            if story_rows and float(np.mean(sims[story_rows])) < th.story_floor:
                continue
            candidate = (verdict.score, other.story_id, verdict)
            if best is None or (candidate[0], candidate[1]) > (best[0], best[1]):
                best = candidate
        if best is None:
            return None
        evidence = f"{best[2].evidence}; like {self._title_of(best[1], members)}"
        return best[1], Verdict(True, best[2].score, evidence)

    def _best_headline_story(
        self,
        doc: Doc,
        sims: np.ndarray,
        eligible: np.ndarray,
        row_docs: list[Doc | None],
        members: dict[str, list[Doc]],
        weights: NameWeights,
        window: timedelta,
        vectors: np.ndarray,
    ):
        """(story_id, verdict) of the story a headline-only item joins, judged on all its members.

        The nearest headlines only nominate stories; each nominated story is then scored against
        its short members within the window (average linkage), so an item that happens to be
        close to one member of a story about something else does not join it.
        """
        if not eligible.any():
            return None
        model = self.headline_model
        masked = np.where(eligible, sims, -np.inf)
        k = min(self.thresholds.candidates, int(eligible.sum()))
        top = np.argpartition(-masked, k - 1)[:k]
        nominated: list[str] = []
        for row in sorted(top.tolist(), key=lambda r: (-masked[r], r)):
            other = row_docs[row]
            if other is None or other.story_id is None or not np.isfinite(masked[row]):
                continue
            if other.story_id not in nominated:
                nominated.append(other.story_id)
        best = None
        if model.linkage == "single":
            for row in sorted(top.tolist(), key=lambda r: (-masked[r], r)):
                other = row_docs[row]
                if other is None or other.story_id is None or not np.isfinite(masked[row]):
                    continue
                if abs(other.at - doc.at) > window:
                    continue
                scored = headline_score(doc, [other], sims[[row]], weights, model, vectors[[row]])
                if scored[0] >= model.threshold and (best is None or scored[0] > best[0]):
                    best = (scored[0], other.story_id, [other], sims[[row]], scored)
            nominated = []
        for sid in nominated:
            # Members are kept in the order they joined, which is time order: the last ones
            # are the most recent.
            near = [
                m
                for m in members.get(sid, [])[-2 * MAX_MEMBERS :]
                if m.short and m.row >= 0 and eligible[m.row] and abs(m.at - doc.at) <= window
            ][-MAX_MEMBERS:]
            if not near:
                continue
            rows = [m.row for m in near]
            scored = headline_score(doc, near, sims[rows], weights, model, vectors[rows])
            if self.headline_log is not None:
                self.headline_log.append((doc.key, sid, scored[1]))
            if scored[0] >= model.threshold and (
                best is None or (scored[0], sid) > (best[0], best[1])
            ):
                best = (scored[0], sid, near, sims[rows], scored)
        if best is None:
            return None
        _, sid, near, cosines, scored = best
        hours = min(abs((m.at - doc.at).total_seconds()) for m in near) / 3600
        verdict = headline_verdict(doc, near, cosines, weights, model, hours, scored)
        evidence = f"{verdict.evidence}; like {self._title_of(sid, members)}"
        return sid, Verdict(True, verdict.score, evidence)

    def _merge_fragments(
        self,
        touched: list[str],
        members: dict[str, list[Doc]],
        vectors: np.ndarray,
        weights: NameWeights,
        window: timedelta,
    ) -> list[FragmentMerge]:
        """Merge headline stories that formed apart but agree as groups; `touched` is updated.

        A large event told in headlines often starts as several stories (the first headlines of
        each angle find no story yet) that the one-item-at-a-time test never joins later. Each
        touched headline story is compared with its nearest headline stories by centroid; the
        pair merges when the smaller story's recent headlines, each scored by the headline
        model against the other story's headlines, reach `merge_threshold` on average (fitted
        on the tune half, like the model). The older story keeps its id; a story that anything
        outside the clusterer refers to (delivered, queued, voted on) is never merged away.
        """
        model = self.headline_model
        if model.merge_threshold is None or not len(vectors):
            return []
        groups: dict[str, list[Doc]] = {}
        for sid, docs in members.items():
            short = [m for m in docs if m.short and m.row >= 0]
            if short:
                groups[sid] = short
        if len(groups) < 2:
            return []
        order = list(groups)
        centroid = {sid: self._centroid(vectors, groups[sid]) for sid in order}
        merged: list[FragmentMerge] = []
        in_use: dict[str, bool] = {}
        queue = [sid for sid in touched if sid in groups]
        while queue:
            sid = queue.pop(0)
            if sid not in groups:
                continue
            others = [o for o in groups if o != sid]
            if not others:
                break
            cos = np.stack([centroid[o] for o in others]) @ centroid[sid]
            best: tuple[float, str, str] | None = None
            for i in np.argsort(-cos)[:MERGE_CANDIDATES].tolist():
                if cos[i] < MERGE_MIN_COSINE:
                    break
                other = others[i]
                score, evidence = self._group_score(
                    groups[sid], groups[other], vectors, weights, window
                )
                if score >= model.merge_threshold and (best is None or score > best[0]):
                    best = (score, other, f"centroid cosine {cos[i]:.2f}; {evidence}")
            if best is None:
                continue
            score, other, evidence = best
            kept, absorbed = sorted(
                (sid, other), key=lambda s_: (members[s_][0].at, members[s_][0].key)
            )
            for s_ in (kept, absorbed):
                if s_ not in in_use:
                    in_use[s_] = self.store.story_in_use(s_)
            if in_use[absorbed]:
                if in_use[kept]:
                    continue  # both delivered: each keeps its id and members
                kept, absorbed = absorbed, kept
            founder = self._founder(absorbed, members[absorbed])
            for m in members[absorbed]:
                m.story_id = kept
            members[kept] = sorted(
                members[kept] + members.pop(absorbed), key=lambda d: (d.at, d.key)
            )
            groups[kept] = [m for m in members[kept] if m.short and m.row >= 0]
            groups.pop(absorbed)
            centroid[kept] = self._centroid(vectors, groups[kept])
            title = repr(members[kept][0].title[:80])
            merged.append(
                FragmentMerge(
                    kept,
                    absorbed,
                    round(score, 4),
                    f"story {absorbed} merged into {title}: {evidence}",
                    founder,
                )
            )
            if absorbed in touched:
                touched.remove(absorbed)
            if kept not in touched:
                touched.append(kept)
            queue.append(kept)
        return merged

    def _founder(self, story_id: str, docs: list[Doc]) -> str | None:
        """The article a story's id was made from (it joins the kept story with the merge as
        its reason), among the story's members in the window, else in the index."""
        keys = [d.key for d in docs]
        if not any(story_id_for(k) == story_id for k in keys):
            keys = self.store.story_keys(story_id)
        return next((k for k in keys if story_id_for(k) == story_id), None)

    @staticmethod
    def _centroid(vectors: np.ndarray, docs: list[Doc]) -> np.ndarray:
        c = vectors[[d.row for d in docs[-MAX_MEMBERS:]]].mean(axis=0)
        norm = float(np.linalg.norm(c))
        return c / norm if norm > 0 else c

    def _group_score(
        self,
        a: list[Doc],
        b: list[Doc],
        vectors: np.ndarray,
        weights: NameWeights,
        window: timedelta,
    ) -> tuple[float, str]:
        """Mean P(same) of the smaller story's recent headlines against the other story."""
        if len(a) > len(b):
            a, b = b, a
        model = self.headline_model
        target = b[-MAX_MEMBERS:]
        target_rows = np.array([m.row for m in target])
        probs = []
        for doc in a[-MERGE_SAMPLE:]:
            keep = [abs(m.at - doc.at) <= window for m in target]
            if not any(keep):
                continue
            rows = target_rows[keep]
            near = [m for m, k in zip(target, keep, strict=True) if k]
            sims = vectors[rows] @ vectors[doc.row]
            probs.append(headline_score(doc, near, sims, weights, model, vectors[rows])[0])
        if not probs:
            return 0.0, "no headlines within the window"
        score = float(np.mean(probs))
        return score, (
            f"{len(probs)} headline(s) vs {len(target)} of the other story: mean P(same) "
            f"{score:.2f} vs {model.merge_threshold:.2f}"
        )

    @staticmethod
    def _title_of(story_id: str, members: dict[str, list[Doc]]) -> str:
        docs = members.get(story_id, [])
        return repr(docs[0].title[:80]) if docs else story_id

    # --- persistence --------------------------------------------------------------------------

    def _persist(
        self,
        batch: list[_New],
        touched: list[str],
        history: list[Doc],
        hist_vectors: np.ndarray,
        now: datetime,
        merged: Sequence[FragmentMerge] = (),
    ) -> list[Story]:
        name = self.embedder.name
        indexed = []
        for n in batch:
            d = n.doc
            terms = {
                "names": sorted(d.names),
                "numbers": sorted(d.numbers),
                "title": d.title,
                **({"short": True} if d.short else {}),
            }
            indexed.append(
                IndexedArticle(
                    key=d.key,
                    story_id=d.story_id or "",
                    at=d.at,
                    ident_url=d.ident_url,
                    content_hash=d.content_hash,
                    thin=tuple(d.thin),
                    model=name,
                    vector=n.vector.tobytes() if n.vector is not None else b"",
                    minhash=to_bytes(n.sig) if n.sig is not None else None,
                    terms=terms,
                )
            )
        by_story: dict[str, list[tuple[Doc, np.ndarray | None]]] = {}
        wanted = set(touched)
        in_history = {d.story_id for d in history}
        for d in history:
            if d.story_id in wanted:
                vec = hist_vectors[d.row] if 0 <= d.row < hist_vectors.shape[0] else None
                by_story.setdefault(d.story_id, []).append((d, vec))
        for n in batch:
            if n.doc.story_id in wanted:
                by_story.setdefault(n.doc.story_id, []).append((n.doc, n.vector))
        heads = [
            StoryHead(sid, self._headline(sid, by_story.get(sid, []), sid in in_history), now, now)
            for sid in touched
        ]
        self.store.save_assignments(
            StoryWrite(
                stories=heads,
                members=[(n.doc.key, n.doc.story_id or "") for n in batch],
                reasons=[(n.doc.story_id or "", n.merge) for n in batch if n.merge is not None],
                indexed=indexed,
                fragments=merged,
            ),
            now,
        )
        if self._window is not None:
            # What save_assignments wrote: the batch's rows, and each absorbed story's rows
            # under the id they were merged into.
            absorbed = {mg.absorbed for mg in merged}
            keys = [k for k, r in self._window.rows.items() if r.story_id in absorbed]
            self._reread(keys + [n.doc.key for n in batch])
        stories = [self.store.load_story(sid) for sid in touched]
        return [s for s in stories if s is not None]

    def _headline(
        self, story_id: str, docs: list[tuple[Doc, np.ndarray | None]], in_window: bool
    ) -> str:
        """The title of the member closest to the story's centroid (earliest on a tie).

        `docs` are the story's members in the window (history first, then this batch);
        `in_window` whether any of them was stored before this batch.
        """
        if not in_window:
            stored = self.store.story_headline(story_id)
            if stored is not None:  # joined an older story (same page): its headline stands
                return stored
        with_vec = [
            (d, v) for d, v in docs if v is not None and (d.comparable or d.short) and d.title
        ]
        if len(with_vec) >= 3:
            centroid = np.mean([v for _, v in with_vec], axis=0)
            best = max(
                with_vec,
                key=lambda dv: (round(float(dv[1] @ centroid), 6), -dv[0].at.timestamp()),
            )
            return best[0].title
        if docs:
            # One or two members: the first reporter's headline (the other is no more central).
            pool = [d for d, _ in docs if (d.comparable or d.short) and d.title] or [
                d for d, _ in docs
            ]
            return min(pool, key=lambda d: (d.at, d.key)).title or "(untitled)"
        stored = self.store.story_headline(story_id)
        return stored if stored is not None else "(untitled)"

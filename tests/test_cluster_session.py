"""A backlog clustered a slice at a time within `Clusterer.session` (as the pipeline does) ends
in exactly the state that reading the window from the store for every slice gives: the same
stories, members, headlines, merge reasons and index rows, fragment merges included."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from twins import VectorsByMarker, eval_script

from digest.clock import ManualClock
from digest.cluster import Clusterer
from digest.cluster.headlines import HeadlineModel
from digest.config import ClusterSettings
from digest.embed import HashingEmbedder
from digest.models import Article
from digest.store import Store

T0 = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


def state(store: Store) -> dict[str, list[tuple]]:
    """Every table the clusterer writes, in a fixed order."""
    queries = {
        "articles": "SELECT key, story_id FROM articles ORDER BY key",
        "stories": "SELECT id, headline, first_seen, last_updated FROM stories ORDER BY id",
        "merges": "SELECT story_id, article_key, level, score, evidence, seq FROM story_merges "
        "ORDER BY seq, article_key",
        "index": "SELECT key, story_id, at, thin, model, vector, minhash, terms "
        "FROM cluster_features ORDER BY key",
    }
    return {name: [tuple(r) for r in store.conn.execute(q)] for name, q in queries.items()}


def cluster_in_slices(
    make, articles: list[Article], size: int, *, session: bool, after=None
) -> dict:
    """Store everything, then cluster the backlog `size` articles at a time (calling
    `after(clusterer, n)` once the n-th slice is in)."""
    store = Store.memory()
    clusterer = make(store)
    if session:
        clusterer.processes = 2  # and batches of 48 or more are read in a process pool
    store.add_articles(articles, T0 + timedelta(days=30))
    backlog = store.unclustered_articles()
    touched = []

    def run() -> None:
        for start in range(0, len(backlog), size):
            touched.extend(s.id for s in clusterer.add(backlog[start : start + size]))
            if after is not None:
                after(clusterer, start // size + 1)

    if session:
        with clusterer.session():
            run()
    else:
        run()
    out = {**state(store), "touched": touched}
    store.close()
    return out


def test_fixture_backlog_in_slices_is_the_same_with_and_without_a_session() -> None:
    articles = [x.article for x in eval_script("clustering").load_fixtures()]
    times = sorted(a.published for a in articles if a.published)
    assert times[-1] - times[0] > timedelta(hours=72)  # the window moves between slices

    def make(store: Store) -> Clusterer:
        clock = ManualClock(T0 + timedelta(days=30))
        return Clusterer(store, HashingEmbedder(), ClusterSettings(window_hours=72), clock)

    for size in (7, 30, 60):
        plain = cluster_in_slices(make, articles, size, session=False)
        kept = cluster_in_slices(make, articles, size, session=True)
        assert kept == plain
        merged = [r for r in plain["merges"] if r[2] != "identical"]
        assert len({r[1] for r in plain["articles"]}) < len(articles) and merged


def headline(key: str, title: str, at: datetime) -> Article:
    return Article(
        key=f"https://h.example/{key}",
        feed_url="https://h.example/feed",
        url=f"https://h.example/{key}",
        title=title,
        text="",
        outlet="H",
        content_hash=hashlib.sha256(b"").hexdigest(),
        published=at,
        from_feed_only=True,
    )


def test_fragment_merges_across_slices_are_the_same_with_and_without_a_session() -> None:
    # Two angles of one event that form apart and merge as groups (see test_cluster_headlines).
    angles = {
        "Norvik": [1.0, 0.0, 0.0],
        "Brakes": [0.62, (1 - 0.62**2) ** 0.5, 0.0],
        "Castell": [0.45, -0.3, (1 - 0.45**2 - 0.3**2) ** 0.5],
    }
    titles = [  # in slices of two: each angle's first pair forms a story of its own
        "Norvik recalls cars",
        "Norvik recall widens",
        "Brakes fail on sedans",
        "Brakes probe opens today",
        "Castell recalls bikes",
        "Castell recall spreads fast",
        "Norvik recall reaches vans",
        "Brakes checks ordered nationwide",
        "Brakes recall list published",  # after a merge: must find the merged story's id
        "Brakes inquiry hears owners",
    ]
    articles = [
        headline(f"h{i}", title, T0 + timedelta(minutes=30 * i)) for i, title in enumerate(titles)
    ]

    def make(store: Store) -> Clusterer:
        model = HeadlineModel({"cos_mean": 12.0}, bias=-8.0, threshold=0.5, merge_threshold=0.3)
        clock = ManualClock(T0 + timedelta(days=2))
        return Clusterer(
            store, VectorsByMarker(angles), ClusterSettings(), clock, headline_model=model
        )

    plain = cluster_in_slices(make, articles, 2, session=False)
    kept = cluster_in_slices(make, articles, 2, session=True)
    assert kept == plain
    assert any("merged into" in r[4] for r in plain["merges"])  # fragments did merge

    def merge_from_third(clusterer: Clusterer, n: int) -> None:
        # The second angle's story forms apart and merges only when a later slice touches it:
        # the rows merged away are then ones the session read in an earlier slice.
        model = clusterer.headline_model
        clusterer.headline_model = replace(model, merge_threshold=0.3 if n >= 2 else None)

    plain = cluster_in_slices(make, articles, 2, session=False, after=merge_from_third)
    kept = cluster_in_slices(make, articles, 2, session=True, after=merge_from_third)
    assert kept == plain
    assert any("merged into" in r[4] for r in plain["merges"])

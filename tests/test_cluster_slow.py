"""The clusterer with the real MiniLM model on the labelled fixtures and the real seed pair.

Slow (loads a model, ~10-30 s on two cores); CI runs them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from twins import eval_script

from digest.clock import ManualClock
from digest.cluster import Clusterer
from digest.config import ClusterSettings
from digest.embed import MiniLMEmbedder
from digest.store import Store

pytestmark = pytest.mark.slow


def _eval_module():
    return eval_script("clustering")


@pytest.fixture(scope="module")
def ev():
    return _eval_module()


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture(scope="module")
def fixtures(ev):
    return {x.article.url.rsplit("/", 1)[-1]: x.article for x in ev.load_fixtures()}


def _cluster(articles, embedder):
    store = Store.memory()
    latest = max(a.published for a in articles if a.published)
    c = Clusterer(store, embedder, ClusterSettings(), ManualClock(latest + timedelta(hours=1)))
    c.add(articles)
    return store, c


def test_seed_like_pair_merges_and_look_alike_does_not(embedder, fixtures) -> None:
    aggregator = fixtures["japan-patriot-philippines"]
    quick_looks = fixtures["japan-patriot-missiles-philippines-quick-looks"]
    drills = fixtures["japan-philippines-naval-drills"]
    store, c = _cluster([aggregator, quick_looks, drills], embedder)
    stories = {
        k: store.conn.execute("SELECT story_id FROM articles WHERE key = ?", (k,)).fetchone()[0]
        for k in (aggregator.key, quick_looks.key, drills.key)
    }
    assert stories[aggregator.key] == stories[quick_looks.key]
    assert stories[drills.key] != stories[aggregator.key]
    [reason] = c.explain(stories[aggregator.key])
    assert reason.level == "same_event" and "patriot" in reason.evidence


def test_follow_up_by_a_regulator_is_its_own_story(embedder, fixtures) -> None:
    recall = [fixtures[k] for k in ("norvik-recall-brake-software", "norvik-terra-recall")]
    probe = [fixtures[k] for k in ("nhtsa-probe-norvik", "nhtsa-opens-norvik-recall-query")]
    store, _ = _cluster(recall + probe, embedder)
    ids = {
        a.key: store.conn.execute(
            "SELECT story_id FROM articles WHERE key = ?", (a.key,)
        ).fetchone()[0]
        for a in recall + probe
    }
    assert ids[recall[0].key] == ids[recall[1].key]
    assert ids[probe[0].key] == ids[probe[1].key]
    assert ids[recall[0].key] != ids[probe[0].key]


def test_real_seed_pair_becomes_one_story_listing_both_outlets(ev, embedder) -> None:
    if not ev.SEEDS.is_dir():
        pytest.skip(f"no seed articles at {ev.SEEDS}")
    seeds = ev.load_seed_articles()
    assert len(seeds) == 2
    store, _ = _cluster(seeds, embedder)
    [row] = store.conn.execute("SELECT DISTINCT story_id FROM articles").fetchall()
    story = store.load_story(row[0])
    assert story is not None and len(story.outlets) == 2


def test_eval_meets_targets_on_the_fixture_set(ev, embedder) -> None:
    fixtures = ev.load_fixtures()
    predicted = ev.cluster_in_runs([x.article for x in fixtures], embedder, run_hours=12)
    scores = ev.pair_scores({x.article.key: x.event for x in fixtures}, predicted)
    assert scores.precision >= 0.97, scores.false_merges
    assert scores.recall >= 0.90, scores.missed

"""Stories from headline-only items: names in headlines, average linkage, and a real run.

The fixtures here are written for these tests (fictional companies and people); the fitted
weights come from real labelled headlines (eval/clustering.py --fit-headlines).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from twins import VectorsByMarker

from digest.app import build_app
from digest.clock import ManualClock
from digest.cluster import Clusterer
from digest.cluster.features import article_features
from digest.cluster.headlines import HeadlineModel, headline_names, is_short, model_for
from digest.config import ClusterSettings, parse_config
from digest.embed import build_embedder
from digest.fetch import build_client
from digest.models import Article
from digest.pipeline import run_digest
from digest.store import Store
from digest.summarize import ExtractiveSummarizer

T0 = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


def headline(key: str, title: str, at: datetime = T0, text: str = "") -> Article:
    return Article(
        key=f"https://h.example/{key}",
        feed_url="https://h.example/feed",
        url=f"https://h.example/{key}",
        title=title,
        text=text,
        outlet="H",
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        published=at,
        from_feed_only=True,
    )


# --- names and the short-item test ------------------------------------------------------------


def test_headline_names_fold_case_and_possessives() -> None:
    a = headline_names("EBay rejects Icahn slate of directors")
    b = headline_names("Ebay to Shareholders: Vote Against Icahn's Nominees")
    c = headline_names("Why eBay and ICAHN keep fighting")
    assert {"ebay", "icahn"} <= a & b & c
    assert "of" not in a and "to" not in b and "why" not in c


@given(st.sampled_from(["Norvik", "NORVIK", "norVik", "Norvik's", "NorVik"]))
def test_headline_names_any_capitalisation_is_one_name(form: str) -> None:
    assert "norvik" in headline_names(f"{form} shares fall after recall")


def test_headline_only_items_are_short_but_long_thin_items_are_not() -> None:
    assert is_short(article_features(headline("a", "Norvik recalls 120,000 cars over brakes")))
    teaser = headline("b", "Norvik recalls cars over brakes", text="Norvik recalls. More soon.")
    assert is_short(article_features(teaser))
    # Too few words in the headline to say which event it is.
    assert not is_short(article_features(headline("c", "Watch: recall")))
    body = " ".join(["The company said the recall covers many models built last year."] * 10)
    assert not is_short(article_features(headline("d", "Norvik recalls 120,000 cars", text=body)))


# --- linkage ----------------------------------------------------------------------------------


def _chain(linkage: str) -> dict[str, str]:
    # cos(A, B) = cos(B, C) = 0.80, cos(A, C) = 0.28: B sits between two different events.
    a = [1.0, 0.0]
    c = [0.28, (1 - 0.28**2) ** 0.5]
    mid = np.asarray(a) + np.asarray(c)
    embedder = VectorsByMarker({"Alpha": a, "Beta": list(mid / np.linalg.norm(mid)), "Gamma": c})
    model = HeadlineModel({"cos_mean": 12.0}, bias=-8.0, threshold=0.5, linkage=linkage)
    store = Store.memory()
    clock = ManualClock(T0 + timedelta(hours=1))
    c_ = Clusterer(store, embedder, ClusterSettings(), clock, headline_model=model)
    items = [
        headline("a", "Alpha council approves budget plan", T0),
        headline("b", "Beta council budget plan questioned", T0 + timedelta(minutes=5)),
        headline("c", "Gamma council rejects harbour plan", T0 + timedelta(minutes=10)),
    ]
    for item in items:
        c_.add([item])
    return {k[-1]: v for k, v in store.conn.execute("SELECT key, story_id FROM articles")}


def test_average_linkage_does_not_chain_a_b_c_into_one_story() -> None:
    single = _chain("single")
    assert single["a"] == single["b"] == single["c"]  # what single link does: the chain
    ours = _chain("average")
    assert ours["a"] == ours["b"]
    assert ours["c"] != ours["a"]


def test_explain_says_which_headline_evidence_decided() -> None:
    embedder = VectorsByMarker({"Norvik": [1.0, 0.1], "Castell": [0.1, 1.0]})
    store = Store.memory()
    c = Clusterer(store, embedder, ClusterSettings(), ManualClock(T0 + timedelta(hours=1)))
    first = headline("a", "Norvik recalls 120,000 cars over brake fault")
    second = headline("b", "Norvik to recall 120,000 vehicles", T0 + timedelta(minutes=30))
    c.add([first])
    [story] = c.add([second])
    assert [a.key for a in story.articles] == [first.key, second.key]
    [why] = c.explain(story.id)
    assert why.level == "same_event" and why.article_key == second.key
    assert "headline vs 1 headline(s)" in why.evidence and "names: norvik" in why.evidence
    assert "numbers: 120000" in why.evidence and "decided by" in why.evidence
    assert why.score >= model_for(embedder.name).threshold


# --- fragment merging --------------------------------------------------------------------------

# One event told from two angles (cos 0.62: too far for one headline to join the other story,
# p = 0.36 < 0.5, but the two groups agree: mean p 0.36 >= 0.3), and a look-alike of another
# event (cos 0.45 to the first angle, 0.04 to the second: p 0.07).
_ANGLES = {
    "Norvik": [1.0, 0.0, 0.0],
    "Brakes": [0.62, (1 - 0.62**2) ** 0.5, 0.0],
    "Castell": [0.45, -0.3, (1 - 0.45**2 - 0.3**2) ** 0.5],
}


def _merging(store: Store, merge: float | None = 0.3) -> Clusterer:
    model = HeadlineModel({"cos_mean": 12.0}, bias=-8.0, threshold=0.5, merge_threshold=merge)
    clock = ManualClock(T0 + timedelta(hours=3))
    return Clusterer(
        store, VectorsByMarker(_ANGLES), ClusterSettings(), clock, headline_model=model
    )


def _stories(store: Store) -> dict[str, str]:
    return {
        k.rsplit("/", 1)[1]: v for k, v in store.conn.execute("SELECT key, story_id FROM articles")
    }


def _consistent(store: Store) -> None:
    """articles, cluster_features, stories and story_merges agree on every story id."""
    by_article = {tuple(r) for r in store.conn.execute("SELECT key, story_id FROM articles")}
    by_features = {
        tuple(r) for r in store.conn.execute("SELECT key, story_id FROM cluster_features")
    }
    assert by_article == by_features
    ids = {sid for _, sid in by_article}
    assert ids == {r[0] for r in store.conn.execute("SELECT id FROM stories")}
    for key, sid in store.conn.execute("SELECT article_key, story_id FROM story_merges"):
        assert (key, sid) in by_article


def test_two_fragments_of_one_event_merge_into_the_older_story() -> None:
    store = Store.memory()
    c = _merging(store)
    c.add([headline("a1", "Norvik recalls cars", T0), headline("a2", "Norvik recall widens", T0)])
    [older] = {v for v in _stories(store).values()}
    later = T0 + timedelta(hours=1)
    c.add(
        [
            headline("b1", "Brakes fail on sedans", later),
            headline("b2", "Brakes probe opens today", later),
        ]
    )
    assert set(_stories(store).values()) == {older}  # one story, under the older id
    _consistent(store)
    why = {m.article_key.rsplit("/", 1)[1]: m for m in c.explain(older)}
    assert set(why) == {"a2", "b1", "b2"}
    assert "merged into 'Norvik recalls cars'" in why["b1"].evidence
    assert "mean P(same) 0.36 vs 0.30" in why["b1"].evidence
    assert "merged" not in why["b2"].evidence  # b2 joined b1 on its own evidence


def test_look_alike_of_another_event_does_not_merge() -> None:
    store = Store.memory()
    c = _merging(store)
    c.add([headline("a1", "Norvik recalls cars", T0), headline("a2", "Norvik recall widens", T0)])
    later = T0 + timedelta(hours=1)
    c.add(
        [
            headline("c1", "Castell recalls bikes", later),
            headline("c2", "Castell recall spreads fast", later),
        ]
    )
    got = _stories(store)
    assert got["a1"] == got["a2"] and got["c1"] == got["c2"] and got["a1"] != got["c1"]
    _consistent(store)


def test_without_a_merge_threshold_fragments_stay_apart() -> None:
    store = Store.memory()
    c = _merging(store, merge=None)
    c.add([headline("a1", "Norvik recalls cars", T0)])
    c.add([headline("b1", "Brakes fail on sedans", T0 + timedelta(hours=1))])
    got = _stories(store)
    assert got["a1"] != got["b1"]


def _delivered_fragments(store: Store) -> tuple[str, str]:
    """Two fragments of one event, formed by a clusterer that did not merge them."""
    c = _merging(store, merge=None)
    c.add([headline("a1", "Norvik recalls cars", T0)])
    c.add([headline("b1", "Brakes fail on sedans", T0 + timedelta(hours=1))])
    got = _stories(store)
    return got["a1"], got["b1"]


def test_a_delivered_story_keeps_its_id_and_the_other_fragment_joins_it() -> None:
    store = Store.memory()
    older, newer = _delivered_fragments(store)
    when = T0 + timedelta(hours=2)
    store.record_delivery("slack:#news", [newer], kind="story", digest="d", ref="1", now=when)
    _merging(store).add([headline("b2", "Brakes probe opens today", T0 + timedelta(hours=2))])
    assert set(_stories(store).values()) == {newer}
    _consistent(store)
    why = {m.article_key.rsplit("/", 1)[1]: m for m in _merging(store).explain(newer)}
    assert "merged into" in why["a1"].evidence


def test_two_delivered_fragments_keep_their_ids_and_members() -> None:
    store = Store.memory()
    older, newer = _delivered_fragments(store)
    when = T0 + timedelta(hours=2)
    store.record_delivery(
        "slack:#news", [older, newer], kind="story", digest="d", ref="1", now=when
    )
    _merging(store).add([headline("b2", "Brakes probe opens today", T0 + timedelta(hours=2))])
    got = _stories(store)
    assert got["a1"] == older and got["b1"] == got["b2"] == newer
    _consistent(store)


# --- a real run: two headline-only feeds over HTTP on 127.0.0.1 ----------------------------------

NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


def _rss(name: str, items: list[tuple[str, str, str]]) -> str:
    body = "".join(
        f"<item><title>{t}</title><link>https://{name}.example/{g}</link><guid>{g}</guid>"
        f"<pubDate>{d}</pubDate><description>{t}</description></item>"
        for t, g, d in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title><link>https://{name}.example/</link>{body}</channel></rss>"
    )


@pytest.mark.parametrize(
    "embedder_kind",
    [
        "hashing",
        pytest.param("minilm", marks=pytest.mark.slow),
    ],
)
def test_two_feeds_headlines_of_one_event_group_and_look_alikes_do_not(
    tmp_path, httpserver, embedder_kind
):
    when = "Fri, 20 Nov 2026 05:10:00 GMT"
    later = "Fri, 20 Nov 2026 05:40:00 GMT"
    httpserver.expect_request("/wire.xml").respond_with_data(
        _rss(
            "wire",
            [
                ("Norvik recalls 120,000 cars over brake fault", "w1", when),
                ("Castell opens Lyon battery plant, hires 900", "w2", when),
            ],
        ),
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/ticker.xml").respond_with_data(
        _rss(
            "ticker",
            [
                ("Norvik recall: 120,000 cars over brake fault", "t1", later),
                ("Brightwater recalls 8,000 ovens over fire risk", "t2", later),
            ],
        ),
        content_type="application/rss+xml",
    )
    feeds = [httpserver.url_for("/wire.xml"), httpserver.url_for("/ticker.xml")]
    data = {
        "state_dir": str(tmp_path / "state"),
        "fetch": {"allow_private_addresses": True, "timeout_seconds": 5},
        # Headline-only feeds: nothing but the title and the title again as description.
        "extract": {"fetch_pages": False},
        "summarizer": {"backend": "extractive"},
        "digest": [{"name": "news", "feeds": [{"url": u} for u in feeds], "destinations": []}],
    }
    config = parse_config(data, "test.toml")
    app = build_app(
        config,
        clock=lambda: NOW,
        http_client=build_client(config.fetch),
        summarizer=ExtractiveSummarizer(),
        embedder=build_embedder(embedder_kind),
    )
    try:
        run_digest(app, config.digest[0], dry_run=True)
        rows = app.store.conn.execute("SELECT title, story_id FROM articles").fetchall()
    finally:
        app.close()
    story = {r[0]: r[1] for r in rows}
    assert len(story) == 4, story
    norvik = story["Norvik recalls 120,000 cars over brake fault"]
    assert story["Norvik recall: 120,000 cars over brake fault"] == norvik
    assert story["Castell opens Lyon battery plant, hires 900"] != norvik
    if embedder_kind == "minilm":
        # A look-alike (another company's recall, other figures): the real model keeps it apart;
        # the hashing twin only sees shared words ("recalls ... over") and may not.
        assert story["Brightwater recalls 8,000 ovens over fire risk"] != norvik
        assert len(set(story.values())) == 3

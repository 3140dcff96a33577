"""The state API, run on every backend (tests/state_backends.py): migrations, feed health,
articles and stories, the story index, the ledger and intents, runs and locks, the alert
queue, readers' choices and the archive."""

from datetime import UTC, datetime, timedelta

import pytest

from digest.errors import StateError
from digest.models import Article, MergeReason, Story
from digest.store import (
    MIGRATIONS,
    FragmentMerge,
    IndexedArticle,
    LedgerEntry,
    Store,
    StoryHead,
    StoryWrite,
)

T0 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
FEED = "https://f.example/rss"


def article(key: str, **kw) -> Article:
    base = dict(
        key=key,
        feed_url=FEED,
        url=f"https://f.example/{key}",
        title=f"Title {key}",
        text=f"Text of {key}.",
        outlet="F",
        content_hash=f"h-{key}",
    )
    base.update(kw)
    return Article(**base)


def indexed(key: str, story_id: str, at: datetime, **kw) -> IndexedArticle:
    base = dict(
        key=key,
        story_id=story_id,
        at=at,
        ident_url=f"f.example/{key}",
        content_hash=f"h-{key}",
        thin=(),
        model="m1",
        vector=bytes(range(8)),
        minhash=None,
        terms={"names": ["Norland"], "title": f"Title {key}"},
    )
    base.update(kw)
    return IndexedArticle(**base)


def react(
    store: Store,
    *,
    user: str = "U1",
    reaction: str = "+1",
    vote: int = 1,
    story_ids: tuple[str, ...] = ("s1",),
) -> None:
    """`user` reacted with `reaction` to message 1.1 in #news (channel C1)."""
    store.record_reaction(
        "slack:#news",
        channel_id="C1",
        ts_="1.1",
        user=user,
        reaction=reaction,
        vote=vote,
        story_ids=list(story_ids),
        now=T0,
    )


# --- migrations -------------------------------------------------------------------------------


def test_migrations_are_recorded_once(state_backend):
    store = state_backend.open()
    assert store.applied_migrations() == [m.__name__ for m in MIGRATIONS]
    assert store.migrate() == []
    assert state_backend.open().migrate() == []  # another process finds nothing to do


def test_state_from_newer_version_is_refused(state_backend):
    store = state_backend.open()
    with store.transaction():
        store._run(
            "INSERT INTO _migrations (id, name, applied_at) VALUES (?, 'future', 'x')",
            (len(MIGRATIONS) + 1,),
        )
    with pytest.raises(StateError, match="newer version"):
        state_backend.open()


# --- feeds ------------------------------------------------------------------------------------


def test_feed_health_counts_failures_and_resets(state: Store):
    state.record_feed_failure(FEED, T0, "HTTP 500")
    state.record_feed_failure(FEED, T0 + timedelta(minutes=1), "read timeout")
    fs = state.feed_state(FEED)
    assert fs.consecutive_failures == 2 and fs.last_error == "read timeout"
    assert fs.last_success is None
    state.record_feed_success(FEED, T0, etag='"v1"', last_modified="Fri, 20 Nov 2026 07:00:00 GMT")
    fs = state.feed_state(FEED)
    assert (fs.consecutive_failures, fs.last_error, fs.etag) == (0, None, '"v1"')
    assert fs.last_success == T0
    state.record_feed_success(FEED, T0, etag=None, last_modified=None, title="F")
    state.record_feed_success(FEED, T0, etag=None, last_modified=None)
    assert state.feed_state(FEED).title == "F"  # a fetch without a title keeps the old one
    assert [u for u, _ in state.all_feed_states()] == [FEED]
    assert state.feed_state("https://never.example/") == type(fs)()


# --- articles and stories ---------------------------------------------------------------------


def test_articles_are_added_once(state: Store):
    assert [a.key for a in state.add_articles([article("a"), article("b")], T0)] == ["a", "b"]
    assert [a.key for a in state.add_articles([article("a"), article("c")], T0)] == ["c"]
    assert state.known_keys(["a", "x", "c"]) == {"a", "c"}
    assert {a.key for a in state.unclustered_articles()} == {"a", "b", "c"}
    published = T0 - timedelta(hours=3)
    state.add_articles([article("d", published=published, from_feed_only=True, priority=2)], T0)
    [d] = state.articles(["d"])
    assert (d.published, d.from_feed_only, d.priority) == (published, True, 2)
    assert [a.key for a in state.articles(["c", "nope", "a"])] == ["c", "a"]


def test_known_keys_past_one_chunk(state: Store):
    keys = [f"k{i}" for i in range(1203)]
    state.add_articles([article(k) for k in keys[::2]], T0)
    assert state.known_keys(keys) == set(keys[::2])


def test_story_round_trip_with_merges(state: Store):
    a, b = article("a"), article("b", outlet="G")
    state.add_articles([a, b], T0)
    story = Story(
        id="s1",
        headline="H",
        articles=(a, b),
        first_seen=T0,
        last_updated=T0 + timedelta(hours=1),
        merges=(MergeReason("b", "same_event", 0.83, "titles share 'flood barrier'"),),
    )
    state.save_story(story)
    loaded = state.load_story("s1")
    assert loaded is not None
    assert [x.key for x in loaded.articles] == ["a", "b"]
    assert loaded.outlets == ("F", "G")
    assert loaded.merges == story.merges
    assert (loaded.first_seen, loaded.last_updated) == (T0, T0 + timedelta(hours=1))
    assert state.unclustered_articles() == []
    assert [s.id for s in state.stories_updated_since(T0, [FEED])] == ["s1"]
    assert state.stories_updated_since(T0 + timedelta(hours=2), [FEED]) == []
    assert state.stories_updated_since(T0, ["https://other.example/"]) == []
    assert state.stories_updated_since(T0, []) == []
    # Saved again: first_seen stays, headline and update time move.
    state.save_story(
        Story(
            id="s1",
            headline="H2",
            articles=(a, b),
            first_seen=T0 + timedelta(days=1),
            last_updated=T0 + timedelta(days=1),
        )
    )
    again = state.load_story("s1")
    assert again is not None and (again.headline, again.first_seen) == ("H2", T0)
    assert state.story_headline("s1") == "H2" and state.story_headline("nope") is None


def test_article_keys_since_splits_a_story_at_a_time(state: Store):
    state.add_articles([article("a")], T0)
    state.add_articles([article("b")], T0 + timedelta(hours=2))
    state.save_story(Story("s", "H", (article("a"), article("b")), T0, T0 + timedelta(hours=2)))
    assert state.article_keys_since("s", T0 + timedelta(hours=1)) == ["b"]
    assert state.article_keys_since("s", T0 + timedelta(hours=2)) == []


# --- the story index --------------------------------------------------------------------------


def test_assignments_index_and_window(state: Store):
    state.add_articles([article(k) for k in "abc"], T0)
    state.save_assignments(
        StoryWrite(
            stories=[StoryHead("s1", "Title a", T0, T0)],
            members=[("a", "s1"), ("b", "s1")],
            reasons=[("s1", MergeReason("b", "identical", 1.0, "same page"))],
            indexed=[
                indexed("a", "s1", T0, minhash=b"\x00\x01sig", thin=("teaser", "short")),
                indexed("b", "s1", T0 + timedelta(hours=1), ident_url="f.example/a"),
            ],
        ),
        T0,
    )
    assert state.clustered_keys(["a", "b", "c"]) == {"a", "b"}
    window = state.load_window(T0 - timedelta(hours=1), T0 + timedelta(minutes=30))
    assert [w.key for w in window] == ["a"]
    [a] = window
    assert (a.story_id, a.at, a.minhash, a.thin, a.vector) == (
        "s1",
        T0,
        b"\x00\x01sig",
        ("teaser", "short"),
        bytes(range(8)),
    )
    assert a.terms == {"names": ["Norland"], "title": "Title a"}
    assert state.thin_reasons("a") == ("teaser", "short") and state.thin_reasons("b") == ()
    assert state.find_identical(ident_url="f.example/a") == "s1"
    assert state.find_identical(content_hash="h-b") == "s1"
    assert state.find_identical(content_hash="h-zzz") is None
    assert state.find_identical() is None
    assert state.story_keys("s1") == ["a", "b"]
    state.update_vectors("m2", [("a", b"\x09" * 8)])
    [a2] = state.load_window(T0, T0)
    assert (a2.model, a2.vector) == ("m2", b"\x09" * 8)
    assert [m.article_key for m in state.merge_reasons("s1")] == ["b"]
    loaded = state.load_story("s1")
    assert loaded is not None and [x.key for x in loaded.articles] == ["a", "b"]


def test_a_fragment_merge_moves_members_and_keeps_the_join_order(state: Store):
    state.add_articles([article(k) for k in "abcd"], T0)
    state.save_assignments(
        StoryWrite(
            stories=[StoryHead("s1", "One", T0, T0), StoryHead("s2", "Two", T0, T0)],
            members=[("a", "s1"), ("b", "s1"), ("c", "s2"), ("d", "s2")],
            reasons=[
                ("s2", MergeReason("d", "same_event", 0.7, "d joins two")),
                ("s1", MergeReason("b", "same_event", 0.8, "b joins one")),
            ],
            indexed=[indexed(k, "s1" if k in "ab" else "s2", T0) for k in "abcd"],
        ),
        T0,
    )
    state.save_assignments(
        StoryWrite(
            stories=[StoryHead("s1", "One again", T0, T0 + timedelta(hours=1))],
            members=[],
            fragments=[FragmentMerge("s1", "s2", 0.9, "two merged into one", founder="c")],
        ),
        T0 + timedelta(hours=1),
    )
    assert state.load_story("s2") is None
    merged = state.load_story("s1")
    assert merged is not None
    assert [a.key for a in merged.articles] == ["a", "b", "c", "d"]
    assert merged.headline == "One again"
    # In the order the reasons were written: d, b, then the absorbed founder c.
    assert [(m.article_key, m.evidence) for m in merged.merges] == [
        ("d", "d joins two"),
        ("b", "b joins one"),
        ("c", "two merged into one"),
    ]
    assert state.story_keys("s1") == ["a", "b", "c", "d"] and state.story_keys("s2") == []
    # A member that joins again keeps one reason, moved to the end.
    state.save_assignments(
        StoryWrite(
            stories=[], members=[], reasons=[("s1", MergeReason("d", "identical", 1.0, "again"))]
        ),
        T0,
    )
    assert [m.article_key for m in state.merge_reasons("s1")] == ["b", "c", "d"]


def test_a_story_in_use_is_anything_outside_the_clusterer_referring_to_it(state: Store):
    assert not state.story_in_use("st-1")
    state.record_delivery("slack:#a", ["st-1"], kind="story", digest="d", ref="1", now=T0)
    assert state.story_in_use("st-1")
    state.record_intent("slack:#a", "k", digest="d", story_ids=["st-2"], kinds=["story"], now=T0)
    assert state.story_in_use("st-2")
    state.queue_alert("rule", "st-3", "why", T0)
    assert state.story_in_use("st-3")
    state.record_cut("d", [("st-4", 2)], [], T0)
    assert state.story_in_use("st-4")
    state.archive_digest("d", "digest", T0, "2026-11-20", {"stories": [{"id": "st-5"}]})
    assert state.story_in_use("st-5")
    assert not state.story_in_use("st-6")


def test_a_story_in_use_is_its_exact_id(state: Store):
    """Story ids are URLs, found as themselves in the JSON columns on every backend: `_` is no
    wildcard, case counts (SQLite's LIKE ignores it), and a non-ASCII id is found although it
    is kept as a JSON escape."""
    state.record_intent(
        "slack:#a", "k", digest="d", story_ids=["https://f.example/café"], kinds=["story"], now=T0
    )
    state.archive_digest(
        "d", "digest", T0, "2026-11-20", {"stories": [{"id": "https://f.example/AxB"}]}
    )
    react(state, story_ids=("https://f.example/Storm",))
    assert state.story_in_use("https://f.example/café")
    assert state.story_in_use("https://f.example/AxB")
    assert state.story_in_use("https://f.example/Storm")
    assert not state.story_in_use("https://f.example/A_B")
    assert not state.story_in_use("https://f.example/storm")
    assert not state.story_in_use("https://f.example/caf")


# --- the summary cache ------------------------------------------------------------------------


def test_summary_cache(state: Store):
    assert state.cached_summary("k") is None
    state.cache_summary("k", "m", {"headline": "H", "bullets": []}, T0)
    assert state.cached_summary("k") == {"headline": "H", "bullets": []}
    state.cache_summary("k", "m", {"headline": "H2", "bullets": []}, T0)
    assert state.cached_summary("k") == {"headline": "H2", "bullets": []}


# --- the ledger -------------------------------------------------------------------------------


def test_ledger_is_per_destination_and_kind(state: Store):
    state.record_delivery("slack:#a", ["s1", "s2"], kind="story", digest="d", ref="1.2", now=T0)
    assert state.is_delivered("slack:#a", "s1")
    assert not state.is_delivered("email:x@y", "s1")
    assert not state.is_delivered("slack:#a", "s1", kind="update")
    assert state.delivered_ids("slack:#a") == {"s1", "s2"}
    assert state.last_delivery_time("slack:#a", "s1") == T0
    assert state.last_delivery_time("slack:#a", "s9") is None
    assert [(e.story_id, e.ref) for e in state.deliveries_with_ref("1.2", "slack:")] == [
        ("s1", "1.2"),
        ("s2", "1.2"),
    ]
    assert state.deliveries_with_ref("1.2", "email:") == []


def test_recent_deliveries_and_counts(state: Store):
    state.record_delivery("slack:#a", ["s1"], kind="story", digest="d", ref="1", now=T0)
    state.record_delivery(
        "slack:#a", ["s2"], kind="story", digest="d", ref="muted", now=T0 + timedelta(hours=1)
    )
    state.record_delivery(
        "slack:#a", ["s3"], kind="story", digest="d", ref="2", now=T0 + timedelta(hours=2)
    )
    assert state.recently_delivered("slack:#a", 10, except_ref="muted") == ["s3", "s1"]
    assert state.recently_delivered("slack:#a", 1, except_ref="muted") == ["s3"]
    state.record_delivery("email:x@y", ["s1", "s4"], kind="alert:x", digest="a", ref="m", now=T0)
    state.record_delivery("slack:#a", ["s1"], kind="alert:x", digest="a", ref="m", now=T0)
    assert state.stories_delivered_since("alert:x", T0) == 2
    assert state.stories_delivered_since("alert:x", T0 + timedelta(seconds=1)) == 0


def test_a_crash_mid_transaction_records_nothing(state_backend):
    store = state_backend.open()
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.record_delivery("k", ["s"], kind="story", digest="d", ref="r", now=T0)
            store.record_intent("k", "i", digest="d", story_ids=["s"], kinds=["story"], now=T0)
            raise RuntimeError("crash")
    assert not store.is_delivered("k", "s")
    assert store.open_intents("k") == []
    # A second connection (another process) sees committed rows only.
    store.record_delivery("k", ["s2"], kind="story", digest="d", ref="r", now=T0)
    assert state_backend.open().delivered_ids("k") == {"s2"}


@pytest.mark.parametrize("write", ["record_delivery", "import_ledger"])
def test_a_delivery_written_again_keeps_the_first(state: Store, write: str):
    """A story recorded again (a retried write) or imported again (an import, a replayed
    journal) is harmless: the first time and ref stay; only the new row is added."""
    state.record_delivery("slack:#a", ["s1"], kind="story", digest="d", ref="1", now=T0)
    later = T0 + timedelta(hours=1)
    again = [
        LedgerEntry("slack:#a", "s1", "story", "d", "other", later),
        LedgerEntry("slack:#a", "s2", "story", "d", "2", later),
    ]
    if write == "import_ledger":
        assert state.import_ledger(again) == 1
    else:
        for e in again:
            state.record_delivery(
                e.destination, [e.story_id], kind=e.kind, digest=e.digest, ref=e.ref, now=later
            )
    assert state.last_delivery_time("slack:#a", "s1") == T0
    assert [(e.story_id, e.ref, e.delivered_at) for e in state.ledger()] == [
        ("s1", "1", T0),
        ("s2", "2", later),
    ]


def test_passed_over_and_the_cut(state: Store):
    state.record_cut("d", [("s1", 2), ("s2", 3)], [], T0)
    assert state.passed_over("d") == {"s1": 2, "s2": 3}
    state.record_cut("d", [("s2", 5)], ["s1"], T0)
    assert state.passed_over("d") == {"s2": 5}
    assert state.passed_over("other") == {}


def test_delivery_intents_open_settle_and_drop(state_backend):
    store = state_backend.open()
    store.record_intent(
        "slack:#a", "k1", digest="d", story_ids=["s1", "s2"], kinds=["story", "update"], now=T0
    )
    store.record_intent("slack:#a", "k2", digest="d", story_ids=["s3"], kinds=["story"], now=T0)
    store.record_intent("slack:#b", "k1", digest="d", story_ids=["s9"], kinds=["story"], now=T0)
    [first, second] = store.open_intents("slack:#a")
    assert (first.key, first.story_ids, first.kinds, first.created_at) == (
        "k1",
        ("s1", "s2"),
        ("story", "update"),
        T0,
    )
    assert len(store.open_intents()) == 3
    with pytest.raises(ValueError):
        store.record_intent("slack:#a", "k3", digest="d", story_ids=["s"], kinds=[], now=T0)
    # A reopened database (the next run after a crash) still has them.
    store.close()
    store = state_backend.open()
    # Settling records each story with its own kind and clears the intent, together.
    assert store.settle_intent("slack:#a", "k1", ref="1.5", now=T0) == ["s1", "s2"]
    assert store.delivered_ids("slack:#a") == {"s1"}
    assert store.delivered_ids("slack:#a", "update") == {"s2"}
    assert [i.key for i in store.open_intents("slack:#a")] == ["k2"]
    assert store.settle_intent("slack:#a", "k1", ref="1.5", now=T0) == []  # already settled
    store.drop_intent("slack:#a", "k2")
    assert store.open_intents("slack:#a") == []
    assert not store.is_delivered("slack:#a", "s3")
    assert [i.story_ids for i in store.open_intents("slack:#b")] == [("s9",)]


# --- runs, locks, serve sessions --------------------------------------------------------------


def test_runs_and_periods(state: Store):
    assert state.last_run("world") is None and state.first_run_start("world") is None
    run = state.start_run("world", "2026-11-20T07:00:00+00:00", T0)
    assert state.last_run("world").outcome is None
    assert not state.period_done("world", "2026-11-20T07:00:00+00:00")
    state.finish_run(run, T0 + timedelta(minutes=2), "ok", None, 5)
    last = state.last_run("world")
    assert (last.outcome, last.stories, last.finished_at) == ("ok", 5, T0 + timedelta(minutes=2))
    assert state.period_done("world", "2026-11-20T07:00:00+00:00")
    failed = state.start_run("world", "p2", T0 + timedelta(days=1))
    assert failed != run
    state.finish_run(failed, T0 + timedelta(days=1), "failed", "boom")
    assert state.last_run("world").outcome == "failed"
    assert state.last_finished_run("world").id == run
    assert state.last_finished_run("world", ("failed",)).error == "boom"
    assert state.failed_attempts("world", "p2") == (1, T0 + timedelta(days=1))
    assert state.failed_attempts("world", "p3") == (0, None)
    assert state.first_run_start("world") == T0
    assert [r.id for r in state.all_runs()] == [run, failed]


def test_locks_exclude_others_until_expiry(state: Store):
    assert state.acquire_lock("serve", "pid-1", 60, T0)
    assert not state.acquire_lock("serve", "pid-2", 60, T0 + timedelta(seconds=30))
    assert state.lock_owner("serve", T0) == "pid-1"
    assert state.acquire_lock("serve", "pid-1", 60, T0 + timedelta(seconds=30))  # refresh
    assert state.acquire_lock("serve", "pid-2", 60, T0 + timedelta(minutes=5))  # stale
    state.release_lock("serve", "pid-1")  # not the owner: no effect
    assert state.lock_owner("serve", T0 + timedelta(minutes=5)) == "pid-2"
    state.release_lock("serve", "pid-2")
    assert state.lock_owner("serve", T0 + timedelta(minutes=5)) is None


def test_a_lock_is_shared_by_connections(state_backend):
    one, two = state_backend.open(), state_backend.open()
    assert one.acquire_lock("run:world", "a", 60, T0)
    assert not two.acquire_lock("run:world", "b", 60, T0)
    assert two.lock_owner("run:world", T0) == "a"


def test_serve_sessions(state: Store):
    assert state.latest_serve_start() is None
    state.record_serve_start("host:1:x", T0)
    state.record_serve_start("host:2:y", T0 + timedelta(hours=1))
    state.record_serve_stop("host:1:x", T0 + timedelta(hours=2))
    assert state.latest_serve_start() == T0 + timedelta(hours=1)


# --- the alert queue --------------------------------------------------------------------------


def test_alert_queue_keeps_the_first_reason(state: Store):
    state.queue_alert("planes", "s2", "later", T0 + timedelta(minutes=1))
    state.queue_alert("planes", "s1", "first", T0)
    state.queue_alert("planes", "s1", "second", T0 + timedelta(minutes=5))
    state.queue_alert("ships", "s1", "other rule", T0)
    queued = state.queued_alerts("planes")
    assert [(q.story_id, q.reason, q.queued_at) for q in queued] == [
        ("s1", "first", T0),
        ("s2", "later", T0 + timedelta(minutes=1)),
    ]
    state.unqueue_alert("planes", "s1")
    assert [q.story_id for q in state.queued_alerts("planes")] == ["s2"]
    assert len(state.queued_alerts()) == 2


# --- readers ----------------------------------------------------------------------------------


def test_subscribers(state: Store):
    assert state.subscriber_status("world", "ann@example.com") is None
    assert state.set_subscriber("world", "ann@example.com", "subscribed", "cli", T0)
    assert not state.set_subscriber("world", "ann@example.com", "subscribed", "web", T0)
    assert state.set_subscriber("world", "ann@example.com", "unsubscribed", "web", T0)
    state.set_subscriber("world", "bob@example.com", "subscribed", "cli", T0)
    state.set_subscriber("sport", "ann@example.com", "subscribed", "cli", T0)
    assert state.subscriber_status("world", "ann@example.com") == "unsubscribed"
    assert [(s.digest, s.address, s.status, s.source) for s in state.subscribers()] == [
        ("sport", "ann@example.com", "subscribed", "cli"),
        ("world", "ann@example.com", "unsubscribed", "web"),
        ("world", "bob@example.com", "subscribed", "cli"),
    ]
    assert [s.address for s in state.subscribers("world")] == [
        "ann@example.com",
        "bob@example.com",
    ]
    assert state.addresses_with_status("world", "unsubscribed") == {"ann@example.com"}
    assert state.subscribers("world")[0].changed_at == T0


def test_follows_mutes_and_reactions(state: Store):
    f1 = state.add_follow(
        "slack:#news",
        channel_id="C1",
        channel_name="#news",
        text="storm",
        rule={"keywords": {"any": ["storm"]}},
        created_by="U1",
        now=T0,
    )
    f2 = state.add_follow(
        "email:ann@example.com",
        channel_id="",
        channel_name="ann@example.com",
        text="rates",
        rule={"keywords": {"any": ["rates"]}},
        created_by="web",
        now=T0,
    )
    assert f1.id != f2.id
    assert [f.id for f in state.follows()] == [f1.id, f2.id]
    [only] = state.follows("slack:#news")
    assert (only.text, only.rule, only.channel_id) == (
        "storm",
        {"keywords": {"any": ["storm"]}},
        "C1",
    )
    state.remove_follow(f1.id)
    assert [f.id for f in state.follows()] == [f2.id]

    m = state.add_mute(
        "slack:#news", channel_id="C1", channel_name="#news", text="Ads", created_by="U1", now=T0
    )
    assert [(x.id, x.text) for x in state.mutes("slack:#news")] == [(m.id, "Ads")]
    state.remove_mute(m.id)
    assert state.mutes("slack:#news") == []

    react(state, story_ids=("s1", "s2"))
    react(state)  # the same reaction again replaces it
    react(state, user="U2", reaction="-1", vote=-1)
    assert sorted((r.vote, r.story_ids) for r in state.reactions("slack:#news")) == [
        (-1, ("s1",)),
        (1, ("s1",)),
    ]
    assert state.reader_destinations() == ["email:ann@example.com", "slack:#news"]
    assert state.remove_reaction(channel_id="C1", ts_="1.1", user="U2", reaction="-1")
    assert not state.remove_reaction(channel_id="C1", ts_="1.1", user="U2", reaction="-1")
    assert state.forget_reactions("slack:#news") == 1
    assert state.reactions("slack:#news") == []


# --- the archive ------------------------------------------------------------------------------


def test_archive(state: Store):
    first = state.archive_digest("world", "digest", T0, "2026-11-20", {"n": 1})
    second = state.archive_digest(
        "world", "digest", T0 + timedelta(hours=1), "2026-11-20", {"n": 2}
    )
    state.archive_digest("world", "digest", T0 + timedelta(days=1), "2026-11-21", {"n": 3})
    state.archive_digest("sport", "digest", T0, "2026-11-20", {"n": 4})
    assert second > first
    assert [(d.day, d.runs) for d in state.archived_day_counts("world")] == [
        ("2026-11-21", 1),
        ("2026-11-20", 2),
    ]
    assert state.archived("world", day="2026-11-20") == [{"n": 1}, {"n": 2}]
    assert state.archived("world") == [{"n": 3}, {"n": 2}, {"n": 1}]
    assert state.archived("world", limit=1) == [{"n": 3}]

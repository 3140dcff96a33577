"""A huge teaser feed is bounded: the newest `max_items_per_feed` items, at most
`max_page_fetches_per_run` page fetches (the rest wait, the feed is read in full next time), and
clustering committed a slice at a time, so an interrupted run keeps what it clustered.

Real HTTP on 127.0.0.1 (tests/bigfeed.py); the in-memory twins for the models.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bigfeed import big_site
from test_pipeline import make_app
from twins import recorder

from digest.pipeline import CLUSTER_SLICE, run_digest

NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


def stored_keys(app) -> list[str]:
    return [r[0] for r in app.store.conn.execute("SELECT url FROM articles ORDER BY url")]


def item_numbers(app) -> list[int]:
    return sorted(int(u.rsplit("/", 1)[1]) for u in stored_keys(app))


def test_a_feed_of_1000_teasers_reads_only_the_newest_items(tmp_path) -> None:
    with big_site(1000, NOW) as site:
        slack = recorder("a")
        app, config = make_app(
            tmp_path, [site.feed_url], [slack], extra={"cluster": {"enabled": False}}
        )
        result = run_digest(app, config.digest[0])
    assert result.new_articles == 100
    assert item_numbers(app) == list(range(100))  # the newest 100
    assert sorted(site.pages_fetched()) == list(range(100))
    skipped = [p for p in result.problems if "kept the newest 100" in p]
    assert skipped == [
        f"feed {site.feed_url}: 1000 entries: kept the newest 100 (fetch.max_items_per_feed), "
        "skipped 900 older ones"
    ]


def test_page_fetches_over_the_budget_wait_for_the_next_run(tmp_path) -> None:
    extra = {
        "cluster": {"enabled": False},
        "fetch": {
            "allow_private_addresses": True,
            "max_items_per_feed": 50,
            "max_page_fetches_per_run": 20,
        },
    }
    with big_site(200, NOW) as site:
        app, config = make_app(tmp_path, [site.feed_url], [recorder("a")], extra=extra)
        first = run_digest(app, config.digest[0])
        assert sorted(site.pages_fetched()) == list(range(20))  # newest first
        assert item_numbers(app) == list(range(20))
        assert (
            "30 teaser items over the page budget (fetch.max_page_fetches_per_run = 20) wait "
            "for the next run, from 1 feed(s)"
        ) in first.problems
        site.log.clear()
        second = run_digest(app, config.digest[0])
    assert site.log[0] == "/feed.xml" and second.new_articles == 20  # read in full, not a 304
    assert sorted(site.pages_fetched()) == list(range(20, 40))
    assert item_numbers(app) == list(range(40))


class InterruptedGrouper:
    """The run's real grouper, with the process interrupted (Ctrl-C) on its `fail_on`-th call."""

    def __init__(self, inner, fail_on: int) -> None:
        self.inner = inner
        self.calls = 0
        self.fail_on = fail_on

    def add(self, articles):
        self.calls += 1
        if self.calls == self.fail_on:
            raise KeyboardInterrupt
        return self.inner.add(articles)

    def session(self):
        return self.inner.session()


def test_an_interrupted_run_keeps_the_articles_it_clustered(tmp_path) -> None:
    extra = {"fetch": {"allow_private_addresses": True, "max_items_per_feed": 250}}
    with big_site(250, NOW) as site:
        app, config = make_app(tmp_path, [site.feed_url], [recorder("a")], extra=extra)
        real = app.grouper
        app.grouper = InterruptedGrouper(real, fail_on=2)
        with pytest.raises(KeyboardInterrupt):
            run_digest(app, config.digest[0])
        rows = app.store.conn.execute("SELECT key, story_id FROM articles").fetchall()
        clustered = {r[0]: r[1] for r in rows if r[1] is not None}
        assert len(rows) == 250 and len(clustered) == CLUSTER_SLICE  # the first slice stayed

        app.grouper = real
        site.log.clear()
        run_digest(app, config.digest[0])
    assert site.pages_fetched() == []  # nothing fetched again
    after = dict(app.store.conn.execute("SELECT key, story_id FROM articles").fetchall())
    assert all(after[k] == sid for k, sid in clustered.items())
    assert all(sid is not None for sid in after.values())

"""A delivered story that gains facts comes back once as an Update with only the new bullets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from digest.app import build_app
from digest.config import parse_config
from digest.deliver.local import MemoryNotifier
from digest.embed import HashingEmbedder
from digest.pipeline import run_digest
from digest.summarize import ExtractiveSummarizer

T0 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)

BASE = [
    "A passenger ferry ran aground near Gull Point on Tuesday morning, the coastguard said.",
    "The vessel, operated by Bayline Ferries, was carrying commuters from Westhaven to the city.",
    "Coastguard boats reached the ferry within twenty minutes and began taking people off.",
    "The cause of the grounding is not yet known, and the route has been suspended.",
    "Bayline Ferries said it was cooperating fully with the investigation.",
    "Local residents said the water near Gull Point is shallow at low tide.",
]
NEW_FACTS = [
    "Inspector Maren Holt of the coastguard said 212 passengers were on board.",
    "Seven people were treated at Westhaven General Hospital for minor injuries.",
]


def rss(items: list[tuple[str, str, str, datetime]]) -> str:
    body = "".join(
        f"<item><title>{t}</title><link>{u}</link><guid>{u}</guid>"
        f"<pubDate>{format_datetime(d)}</pubDate><description>{text}</description></item>"
        for t, u, text, d in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{body}</channel></rss>'
    )


def _setup(tmp_path, httpserver, *, updates: bool = True):
    now = [T0]
    first = ("Ferry runs aground near Gull Point", httpserver.url_for("/a"), " ".join(BASE), T0)
    httpserver.expect_request("/one.xml").respond_with_data(rss([first]))
    httpserver.expect_request("/two.xml").respond_with_data(rss([]))
    config = parse_config(
        {
            "state_dir": str(tmp_path),
            "fetch": {"allow_private_addresses": True},
            "extract": {"teaser_words": 20},
            "summarizer": {"backend": "extractive"},
            "cluster": {"updates": updates},
            "digest": [
                {
                    "name": "local",
                    "feeds": [
                        {"url": httpserver.url_for("/one.xml")},
                        {"url": httpserver.url_for("/two.xml")},
                    ],
                    "destinations": [{"type": "slack", "channel": "#n", "token_env": "X"}],
                }
            ],
        }
    )
    notifier = MemoryNotifier("slack:#n", stories_per_message=10)
    app = build_app(
        config,
        clock=lambda: now[0],
        summarizer=ExtractiveSummarizer(),
        embedder=HashingEmbedder(),
        notifier_factory=lambda dest: notifier,
    )
    return now, first, config, notifier, app


def _second_outlet(httpserver, first, when):
    second = (
        "Ferry aground at Gull Point: 212 on board",
        httpserver.url_for("/b"),
        " ".join(BASE[:4] + NEW_FACTS + BASE[4:]),
        when,
    )
    httpserver.clear()
    httpserver.expect_request("/one.xml").respond_with_data(rss([first]))
    httpserver.expect_request("/two.xml").respond_with_data(rss([second]))
    return second


def test_update_carries_only_new_facts_and_comes_once(tmp_path, httpserver):
    now, first, config, notifier, app = _setup(tmp_path, httpserver)
    run1 = run_digest(app, config.digest[0])
    (story,) = run1.digest.stories
    assert not story.is_update

    # Later another outlet reports the same event, with figures and names the first had not.
    now[0] = T0 + timedelta(hours=3)
    second = _second_outlet(httpserver, first, now[0])
    run2 = run_digest(app, config.digest[0])
    (update,) = run2.digest.stories
    assert update.is_update and update.story.id == story.story.id
    assert len(update.story.articles) == 2
    texts = [b.text for b in update.quick_looks.bullets]
    assert texts and all(("212" in t) or ("Westhaven General" in t) or ("Holt" in t) for t in texts)
    assert notifier.story_ids == [story.story.id, story.story.id]
    assert app.store.is_delivered("slack:#n", story.story.id, "update")

    # A third outlet retelling it, with nothing new: no second Update.
    now[0] = T0 + timedelta(hours=5)
    third = ("Gull Point ferry grounding", httpserver.url_for("/c"), " ".join(BASE), now[0])
    httpserver.clear()
    httpserver.expect_request("/one.xml").respond_with_data(rss([first, third]))
    httpserver.expect_request("/two.xml").respond_with_data(rss([second]))
    run3 = run_digest(app, config.digest[0])
    assert run3.digest.stories == () or all(
        ds.story.id != story.story.id for ds in run3.digest.stories
    )
    assert notifier.story_ids == [story.story.id, story.story.id]


def test_updates_off_means_never(tmp_path, httpserver):
    now, first, config, notifier, app = _setup(tmp_path, httpserver, updates=False)
    (story,) = run_digest(app, config.digest[0]).digest.stories
    now[0] = T0 + timedelta(hours=3)
    _second_outlet(httpserver, first, now[0])
    assert run_digest(app, config.digest[0]).digest.stories == ()
    assert notifier.story_ids == [story.story.id]

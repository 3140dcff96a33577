"""The benchmark's loopback news web: realistic pages, conditional GET, new items between runs."""

from __future__ import annotations

import html
import sys
from collections import Counter
from pathlib import Path

import feedparser
import httpx
import pytest

# bench/ is not part of the installed package; import it from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.newsweb import NewsWeb, serve  # noqa: E402


@pytest.fixture(scope="module")
def web() -> NewsWeb:
    return NewsWeb(12, 6, seed=7)


def _links(client: httpx.Client, urls: list[str]) -> set[str]:
    links = set()
    for url in urls:
        parsed = feedparser.parse(client.get(url).content)
        assert not parsed.bozo, url
        links.update(e.link for e in parsed.entries)
    return links


def test_generates_every_item_with_article_sized_distinct_bodies(web: NewsWeb) -> None:
    assert len(web.items) == 12 * 6
    words = [i.words for i in web.items]
    assert min(words) >= 500 and max(words) <= 1700
    bodies = {web.gold_text(i) for i in web.items if i.wire_of is None}
    assert len(bodies) == sum(1 for i in web.items if i.wire_of is None)
    assert len({i.path for i in web.items}) == len(web.items)


def test_some_events_are_told_by_several_outlets_in_their_own_words(web: NewsWeb) -> None:
    per_event = Counter(i.event for i in web.items)
    shared = [e for e, n in per_event.items() if n > 1]
    assert shared, "no event is told by more than one outlet"
    event = web.events[shared[0]]
    tellings = [i for i in web.items if i.event == event.index]
    assert len({i.site for i in tellings}) == len(tellings)  # one telling per outlet
    for item in tellings:
        # Same names and numbers, so the story can be recognised across outlets...
        assert event.place in web.gold_text(item) and event.amount in web.gold_text(item)
    own_words = [i for i in tellings if i.wire_of is None]
    if len(own_words) > 1:
        # ...but each outlet's own text differs.
        assert web.gold_text(own_words[0]) != web.gold_text(own_words[1])


def test_is_deterministic_for_a_seed() -> None:
    a, b = NewsWeb(5, 3, seed=3), NewsWeb(5, 3, seed=3)
    assert [i.title for i in a.items] == [i.title for i in b.items]
    assert [a.gold_text(i) for i in a.items] == [b.gold_text(i) for i in b.items]
    assert [i.title for i in NewsWeb(5, 3, seed=4).items] != [i.title for i in a.items]


def test_page_wraps_the_known_body_in_boilerplate(web: NewsWeb) -> None:
    with serve(web) as server, httpx.Client() as client:
        item = web.items[3]
        r = client.get(server.url(item))
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        page = r.text
    for _, text in item.blocks[:3]:
        assert html.escape(text, quote=True) in page
    for boilerplate in ("cookie-banner", "Advertisement", "Most read", "Sign up", "<footer"):
        assert boilerplate in page
    assert len(r.content) > 30_000  # realistic weight, not a bare body


def test_conditional_get_answers_304_until_the_feed_changes() -> None:
    web = NewsWeb(6, 4, seed=11)
    with serve(web) as server, httpx.Client() as client:
        url = server.feed_urls[0]
        first = client.get(url)
        assert first.status_code == 200
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
        assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
        page = server.url(web.items[0])
        page_etag = client.get(page).headers["etag"]
        assert client.get(page, headers={"If-None-Match": page_etag}).status_code == 304
        assert server.stats.kinds["feed:304"] == 2


def test_adding_k_items_changes_only_the_feeds_that_gained_them() -> None:
    web = NewsWeb(8, 5, seed=5)
    with serve(web) as server, httpx.Client() as client:
        before = {u: client.get(u) for u in server.feed_urls}
        old_links = _links(client, server.feed_urls)
        answer = client.post(server.base_url + "/_admin/add?k=9").json()
        assert answer["added"] == 9
        new_links = _links(client, server.feed_urls) - old_links
        assert new_links == {server.base_url + p for p in answer["paths"]}
        changed_sites = {web.by_path[p].site for p in answer["paths"]}
        for site, url in enumerate(server.feed_urls):
            code = client.get(url, headers={"If-None-Match": before[url].headers["etag"]})
            assert code.status_code == (200 if site in changed_sites else 304), url
            assert len(feedparser.parse(client.get(url).content).entries) == 5  # window kept
        for path in answer["paths"]:
            assert client.get(server.base_url + path).status_code == 200


def test_unknown_paths_are_404() -> None:
    web = NewsWeb(2, 2, seed=1)
    with serve(web) as server, httpx.Client() as client:
        assert client.get(server.base_url + "/no/such/page").status_code == 404
        assert client.get(server.base_url + "/feeds/nope.xml").status_code == 404

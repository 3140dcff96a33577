"""parse_feed: every feed format, and each kind of broken feed, gives items or a clear reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from webfixtures import FEEDS, render, running_server, serve_fixture_site

from digest.config import FetchSettings
from digest.errors import FeedParseError
from digest.feeds import ParsedFeed, decode_bytes, parse_feed
from digest.fetch import Fetcher, build_client

BASE = "http://127.0.0.1:8999"  # a private feed host: links to its own pages are allowed
PUBLIC_FEED = "https://public-feed.example/feed.xml"

PUBLIC_HOSTS = {
    "public-feed.example": ["93.184.216.34"],
    "news.example": ["93.184.216.35"],
    "hostile.example": ["93.184.216.36"],
    "pings.example": ["93.184.216.37"],
    "charset.example": ["93.184.216.38"],
    "intranet.corp.example": ["10.1.2.3"],
}


def fake_resolve(host: str) -> list[str]:
    """DNS for tests: a fixed table, and every other name fails to resolve."""
    try:
        return PUBLIC_HOSTS[host]
    except KeyError:
        raise OSError(f"no such host in the test table: {host}") from None


def fixture(name: str) -> bytes:
    return render((FEEDS / name).read_bytes(), BASE)


def parse(name: str, feed_url: str | None = None, **kwargs: object) -> ParsedFeed:
    url = feed_url or f"{BASE}/feeds/{name}"
    return parse_feed(fixture(name), url, resolve=fake_resolve, **kwargs)  # type: ignore[arg-type]


# --- formats -----------------------------------------------------------------------------------


def test_rss_20_teaser_feed() -> None:
    feed = parse("harbour-times.rss", priority=3)
    assert feed.title == "Harbour Times - Local news"
    assert feed.site_url == f"{BASE}/"
    assert feed.problems == ()
    first, second = feed.items
    assert first.title == "Kessel Bridge shut indefinitely after inspectors find cracked piers"
    assert first.url == (
        f"{BASE}/pages/harbour-times-kessel-bridge.html?utm_source=rss&utm_medium=feed"
    )
    assert first.key == f"{BASE}/pages/harbour-times-kessel-bridge.html"  # tracking dropped
    assert first.guid == "harbour-times-2025-03-11-4471"
    assert first.author == "Morag Linnell"
    assert first.published == datetime(2025, 3, 11, 7, 40, tzinfo=UTC)
    assert first.priority == 3 and second.priority == 3
    assert first.feed_url == f"{BASE}/feeds/harbour-times.rss"
    assert first.feed_title == "Harbour Times - Local news"
    assert "Divers found fractures" in first.summary_html


def test_rss_091() -> None:
    feed = parse("consumer-watch.rss")
    assert feed.title == "Consumer Watch Weekly"
    [item] = feed.items
    assert item.title == "Grainworks recalls 40,000 kettles over faulty switch"
    assert item.url == f"{BASE}/pages/consumer-watch-kettle-recall.html"
    # Declared windows-1252 and written in it: the euro sign and the curly quote survive.
    assert "€49" in item.summary_html and "it’s a fire risk" in item.summary_html
    assert item.published is None and item.guid is None
    assert feed.problems == ()


def test_rss_10_rdf() -> None:
    feed = parse("lab-ledger.rdf")
    assert feed.title == "The Lab Ledger"
    [item] = feed.items
    assert item.url == f"{BASE}/pages/lab-ledger-ridley-vents.html"
    assert item.author == "Priya Castellanos"
    assert item.published == datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    assert "autonomous submarine" in item.summary_html


def test_atom_full_content_and_teaser_entries() -> None:
    feed = parse("valley-post.atom")
    assert feed.title == "The Valley Post"
    full, teaser = feed.items
    # The full <content> wins over the one-line <summary>.
    assert full.summary_html.count("<p>") == 8
    assert "Gwen Palfrey" in full.summary_html
    assert full.guid == "tag:valleypost.example,2025:story-88213"
    assert full.author == "Dafydd Orme"
    assert full.published == datetime(2025, 3, 11, 9, 5, tzinfo=UTC)
    # A plain-text summary is escaped into HTML, as summary_html promises.
    assert teaser.summary_html == "<p>Valley Rovers lost 5-4 on penalties after a 1-1 draw.</p>"
    assert teaser.published == datetime(2025, 3, 10, 22, 10, tzinfo=UTC)  # from <updated>


def test_rss_content_encoded_wins_over_description() -> None:
    [item] = parse("northern-ledger.rss").items
    assert "lowest-paid workers" in item.summary_html
    assert item.author == "Ellen Tregarthen"


def test_json_feed_11() -> None:
    feed = parse("coastal-wire.json", content_type="application/feed+json")
    assert feed.title == "Coastal Wire: Top news"
    assert feed.site_url == f"{BASE}/"
    storm, sellick = feed.items
    assert storm.guid == "cw-2025-03-12-storm-imogen"
    assert storm.url == f"{BASE}/pages/coastal-wire-storm-imogen.html"
    assert storm.author == "Coastal Wire staff"  # the feed's authors apply to the item
    assert storm.published == datetime(2025, 3, 12, 16, 20, tzinfo=UTC)
    assert storm.summary_html.startswith("<p>More than 200 homes")  # content_text -> HTML
    assert sellick.author == "Owain Pritchard"
    assert sellick.summary_html.startswith("<p>Volunteers")  # content_html preferred


def test_json_feed_is_recognised_without_a_content_type() -> None:
    assert len(parse("coastal-wire.json").items) == 2


def test_json_feed_that_is_not_json() -> None:
    with pytest.raises(FeedParseError) as info:
        parse_feed(b'{"version": "https://jsonfeed.org/version/1.1", "items": [', PUBLIC_FEED)
    assert info.value.reason.startswith("not a valid JSON Feed")


def test_json_feed_bad_items_and_dates_are_problems_not_failures() -> None:
    data = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": ['
        b'"not an object", {"id": 5, "content_text": "Plain text body", "date_published": "soon"}]}'
    )
    feed = parse_feed(data, PUBLIC_FEED, resolve=fake_resolve)
    [item] = feed.items
    assert item.guid == "5"
    assert item.title == "Plain text body"  # no title: the first words of the text
    assert item.published is None
    assert any("item 0 is not an object" in p for p in feed.problems)
    assert any("unreadable date 'soon'" in p for p in feed.problems)


def test_json_feed_html_is_sanitised_like_rss_html() -> None:
    data = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [{"id": "1",'
        b' "url": "https://news.example/a", "title": "T", "content_html":'
        b' "<p onclick=\\"steal()\\">Hi<script>steal()</script></p><p>two</p>"}]}'
    )
    [item] = parse_feed(data, PUBLIC_FEED, resolve=fake_resolve).items
    assert item.summary_html == "<p>Hi</p><p>two</p>"


@pytest.mark.parametrize("content_type", ["application/json", "text/html; charset=utf-8"])
def test_feed_served_with_a_wrong_content_type_is_still_read(content_type: str) -> None:
    feed = parse("harbour-times.rss", content_type=content_type)
    assert len(feed.items) == 2


def test_wordpress_feed_keeps_full_content() -> None:
    [item] = parse("kitchen-table.rss").items
    assert "clean licence" in item.summary_html
    assert item.author == "Nadia Ferris"


# --- bad inputs --------------------------------------------------------------------------------


def test_malformed_xml_without_entries_is_not_a_feed() -> None:
    with pytest.raises(FeedParseError) as info:
        parse("bad/malformed.xml")
    assert info.value.reason.startswith("not a valid feed: ")
    assert info.value.url == f"{BASE}/feeds/bad/malformed.xml"
    assert "\n" not in str(info.value)


def test_malformed_but_salvageable_feed_keeps_its_entries() -> None:
    feed = parse("bad/salvageable.rss")
    assert [i.title for i in feed.items] == [
        "Fish & chips shop wins regional award",
        "Second entry still readable",
    ]
    assert feed.title == "Careless CMS News"
    [problem] = feed.problems
    assert problem.startswith("malformed feed, read 2 entries anyway: ")


def test_html_page_where_a_feed_was_expected() -> None:
    with pytest.raises(FeedParseError) as info:
        parse("bad/not-a-feed.html", content_type="text/html; charset=utf-8")
    assert info.value.reason == (
        f"got an HTML page, not a feed (the page names a feed at {BASE}/feeds/harbour-times.rss)"
    )


def test_html_page_is_recognised_without_a_content_type() -> None:
    with pytest.raises(FeedParseError) as info:
        parse_feed(b"<html><body><p>Hello</p></body></html>", PUBLIC_FEED)
    assert info.value.reason == "got an HTML page, not a feed"


@pytest.mark.parametrize("content", [b"", b"   \n", b"plain words, not markup"])
def test_nothing_like_a_feed(content: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_feed(content, PUBLIC_FEED)


def test_empty_feed_is_fine() -> None:
    feed = parse("bad/empty.rss")
    assert feed.items == ()
    assert feed.problems == ()
    assert feed.title == "Quiet Parish Newsletter"


def test_duplicate_guids_keep_the_first_entry() -> None:
    feed = parse("bad/duplicate-guids.rss")
    assert [i.title for i in feed.items] == [
        "Market day moves to Friday",
        "Library to open on Sundays",
    ]
    assert feed.problems == (
        "duplicate GUID 'story-100': dropped entry 'Market day moves to Friday (updated)'",
    )


def test_duplicate_links_under_different_guids_keep_the_first_entry() -> None:
    data = (
        b"<rss version='2.0'><channel><title>D</title>"
        b"<item><title>A</title><link>https://news.example/a</link><guid>1</guid></item>"
        b"<item><title>B</title><link>https://news.example/a#x</link><guid>2</guid></item>"
        b"</channel></rss>"
    )
    feed = parse_feed(data, PUBLIC_FEED, resolve=fake_resolve)
    assert [i.title for i in feed.items] == ["A"]
    assert feed.problems == ("duplicate entry 'https://news.example/a': dropped entry 'B'",)


def test_javascript_data_and_file_links_are_refused() -> None:
    feed = parse("bad/javascript-links.rss", feed_url=PUBLIC_FEED)
    urls = {i.title: i.url for i in feed.items}
    assert urls == {
        "Click to win": None,
        "Inline document": None,
        "Local file": None,
        "An ordinary story": "https://news.example/ordinary-story",
    }
    assert len(feed.problems) == 3
    assert feed.problems[0] == (
        "refused link 'javascript:alert(document.cookie)' in entry 'Click to win': "
        "only http and https links are followed, not javascript:"
    )
    # An item without a usable link keeps an identity: its GUID, scoped to the feed.
    assert feed.items[0].key == f"guid:{PUBLIC_FEED}#js-1"


def test_links_to_literal_private_addresses_are_refused() -> None:
    feed = parse("bad/private-links.rss", feed_url=PUBLIC_FEED)
    urls = {i.title: i.url for i in feed.items}
    for title in ("Loopback", "Private range", "IPv6 loopback", "Cloud metadata"):
        assert urls[title] is None, title
    assert urls["Decimal loopback"] is None
    assert urls["Public story"] == "https://news.example/public-story"
    problems = "\n".join(feed.problems)
    assert "'http://127.0.0.1:8080/admin' in entry 'Loopback': 127.0.0.1 is a loopback" in problems
    assert "10.0.0.5 is a private address" in problems
    assert "::1 is a loopback address" in problems
    assert "169.254.169.254 is a link-local address" in problems
    assert "2130706433 is 127.0.0.1, a loopback address" in problems


def test_link_to_a_name_that_resolves_privately_is_refused() -> None:
    feed = parse("bad/private-links.rss", feed_url=PUBLIC_FEED)
    assert {i.title: i.url for i in feed.items}["Intranet name"] is None
    assert any(
        "intranet.corp.example resolves to 10.1.2.3, a private address" in p for p in feed.problems
    )


def test_private_links_are_allowed_from_a_private_feed_or_when_configured() -> None:
    from_private_feed = parse("bad/private-links.rss", feed_url="http://10.9.9.9/feed.xml")
    assert all(i.url for i in from_private_feed.items)
    configured = parse("bad/private-links.rss", feed_url=PUBLIC_FEED, allow_private=True)
    assert all(i.url for i in configured.items)
    assert configured.problems == ()


def test_title_with_slack_control_sequences_and_crlf_stays_literal_text() -> None:
    feed = parse("bad/channel-title.rss", feed_url="https://pings.example/feed")
    first, second = feed.items
    # One line, entities decoded, the would-be ping kept as text for the render stage to escape.
    assert first.title == "<!channel> Flood warning for <@U123ABC> & friends"
    assert second.title == "Bold claim: <!here> x<y and y>z Subject: injected"
    for item in feed.items:
        assert "\r" not in item.title and "\n" not in item.title
    assert feed.title == "Pings & Breaks"


def test_wrong_declared_charset_utf8_bytes_declared_latin1() -> None:
    feed = parse("bad/utf8-declared-latin1.rss", feed_url="https://charset.example/feed")
    [item] = feed.items
    assert item.title == "“Crème brûlée” costs €4 at the new café"
    assert feed.title == "Café Société – News"
    assert "Smørrebrød" in item.summary_html
    assert feed.problems == ("declared charset ISO-8859-1 does not match the bytes; read as UTF-8",)


def test_wrong_declared_charset_cp1252_bytes_declared_utf8() -> None:
    feed = parse("bad/cp1252-declared-utf8.rss", feed_url="https://charset.example/feed")
    [item] = feed.items
    assert item.title == "“Crème brûlée” costs €4 at the new café"
    assert feed.problems == (
        "declared charset UTF-8 does not match the bytes; read as windows-1252",
    )


def _rss_with_titles(titles: list[bytes], declaration: bytes = b"") -> bytes:
    items = b"".join(
        b"<item><title>"
        + t
        + b"</title><link>https://charset.example/"
        + str(i).encode()
        + b"</link></item>"
        for i, t in enumerate(titles)
    )
    return (
        declaration
        + b"<rss version='2.0'><channel><title>News</title>"
        + items
        + b"</channel></rss>"
    )


@pytest.mark.parametrize(
    "declaration", [b'<?xml version="1.0" encoding="UTF-8"?>', b""], ids=["utf-8", "undeclared"]
)
def test_one_invalid_utf8_byte_spoils_only_its_own_title(declaration: bytes) -> None:
    good = ["Zürich votes on the café ban", "São Paulo’s metro opens", "Kraków – €4 fares"]
    broken = b"Bad \xff byte in Mal\xc3\xa9 report"
    body = _rss_with_titles(
        [t.encode() for t in good[:2]] + [broken, good[2].encode()], declaration
    )
    feed = parse_feed(body, PUBLIC_FEED, content_type="application/rss+xml")
    titles = [item.title for item in feed.items]
    assert titles[:2] == good[:2] and titles[3] == good[2]
    assert titles[2] == "Bad \ufffd byte in Malé report"
    assert feed.problems == ("1 byte sequence(s) not valid UTF-8 were replaced with U+FFFD",)


def test_one_bad_byte_in_a_declared_shift_jis_feed_keeps_the_declared_charset() -> None:
    body = _rss_with_titles(
        ["東京の天気は晴れ".encode("shift_jis"), b"\xff" + "大阪の市場".encode("shift_jis")]
    )
    feed = parse_feed(body, PUBLIC_FEED, content_type="application/rss+xml; charset=Shift_JIS")
    assert [item.title for item in feed.items] == ["東京の天気は晴れ", "\ufffd大阪の市場"]
    assert feed.problems == ("1 byte sequence(s) not valid shift_jis were replaced with U+FFFD",)


def test_http_charset_is_used_when_the_bytes_are_not_utf8() -> None:
    body = "<rss version='2.0'><channel><title>Привет</title></channel></rss>".encode("koi8-r")
    feed = parse_feed(body, PUBLIC_FEED, content_type="application/rss+xml; charset=KOI8-R")
    assert feed.title == "Привет"


def test_decode_bytes_handles_boms() -> None:
    text = "<rss>é</rss>"
    assert decode_bytes(b"\xef\xbb\xbf" + text.encode())[0] == text
    assert decode_bytes(text.encode("utf-16"))[0] == text


def test_utf16_feed_with_a_bom() -> None:
    body = (
        '<?xml version="1.0" encoding="UTF-16"?><rss version="2.0"><channel><title>Zoë</title>'
        "<item><title>Über</title><link>https://news.example/u</link></item></channel></rss>"
    ).encode("utf-16")
    feed = parse_feed(body, PUBLIC_FEED, resolve=fake_resolve)
    assert feed.title == "Zoë" and feed.items[0].title == "Über"


def test_unreadable_dates_are_reported() -> None:
    data = (
        b"<rss version='2.0'><channel><title>D</title><item><title>Dated</title>"
        b"<link>https://news.example/d</link><pubDate>the day after tomorrow</pubDate>"
        b"</item></channel></rss>"
    )
    feed = parse_feed(data, PUBLIC_FEED, resolve=fake_resolve)
    assert feed.items[0].published is None
    assert feed.problems == ("unreadable date 'the day after tomorrow' in entry 'Dated'",)


def test_entry_without_title_gets_one_from_its_text() -> None:
    data = (
        b"<rss version='2.0'><channel><title>D</title><item>"
        b"<description>&lt;p&gt;Short note from the harbour master about tides.&lt;/p&gt;"
        b"</description><guid isPermaLink='false'>n1</guid></item></channel></rss>"
    )
    [item] = parse_feed(data, PUBLIC_FEED).items
    assert item.title == "Short note from the harbour master about tides."


def test_relative_links_are_resolved_against_the_feed_url() -> None:
    data = (
        b"<rss version='2.0'><channel><title>R</title><item><title>Rel</title>"
        b"<link>/news/relative-story</link></item></channel></rss>"
    )
    [item] = parse_feed(data, "https://news.example/feeds/all.xml", resolve=fake_resolve).items
    assert item.url == "https://news.example/news/relative-story"


# --- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[HTTPServer, str]]:
    with running_server() as server:
        yield server, serve_fixture_site(server)


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("harbour-times.rss", 2),
        ("valley-post.atom", 2),
        ("coastal-wire.json", 2),
        ("consumer-watch.rss", 1),
        ("lab-ledger.rdf", 1),
        ("marrow-courier.rss", 1),
        ("northern-ledger.rss", 1),
        ("kitchen-table.rss", 1),
        ("fenwick-gazette.rss", 1),
    ],
)
def test_fixture_feeds_fetched_over_http_link_to_served_pages(
    site: tuple[HTTPServer, str], name: str, count: int
) -> None:
    _, base = site
    settings = FetchSettings()
    fetcher = Fetcher(build_client(settings), settings)
    result = fetcher.fetch(f"{base}/feeds/{name}", allow_private=True)
    assert result.ok and result.content is not None
    feed = parse_feed(result.content, result.final_url, content_type=result.content_type)
    assert len(feed.items) == count
    assert feed.problems == ()
    for item in feed.items:
        assert item.url is not None and item.url.startswith(base)  # private feed: allowed
    pages = [fetcher.fetch(i.url, allow_private=True) for i in feed.items if i.url]
    served = {Path(p.name) for p in (FEEDS.parent / "pages").glob("*.html")}
    for item, page in zip(feed.items, pages, strict=True):
        assert item.url is not None
        expected_ok = Path(item.url.split("?")[0].rsplit("/", 1)[1]) in served
        assert page.ok is expected_ok, item.url

"""Article extraction from fixture pages, feed HTML to text, and FeedItem -> Article."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from webfixtures import PAGES, render, running_server, serve_fixture_site

from digest.config import ExtractSettings, FetchSettings
from digest.errors import ExtractError
from digest.extract import (
    ExtractedPage,
    build_article,
    content_hash,
    extract_page,
    html_to_text,
    needs_page,
)
from digest.feeds import parse_feed
from digest.fetch import Fetcher, build_client
from digest.models import FeedItem

BASE = "http://127.0.0.1:8999"
GOLD_PAGES = sorted(p.stem for p in PAGES.glob("*.txt"))


def page_bytes(name: str) -> bytes:
    return render((PAGES / f"{name}.html").read_bytes(), BASE)


def gold(name: str) -> str:
    return (PAGES / f"{name}.txt").read_text("utf-8").strip()


def extract(name: str, **kwargs: object) -> ExtractedPage:
    return extract_page(page_bytes(name), f"{BASE}/pages/{name}.html", **kwargs)  # type: ignore[arg-type]


def word_f1(extracted: str, expected: str) -> float:
    got = Counter(w.casefold() for w in re.findall(r"\w+", extracted))
    want = Counter(w.casefold() for w in re.findall(r"\w+", expected))
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


# --- the fixtures are honest -------------------------------------------------------------------


def test_there_are_enough_varied_page_fixtures() -> None:
    assert len(GOLD_PAGES) >= 6


@pytest.mark.parametrize("name", GOLD_PAGES)
def test_every_gold_paragraph_is_on_its_page(name: str) -> None:
    # The known text must really be the page's article, or the F1 numbers mean nothing.
    page_text = " ".join(
        html_to_text(page_bytes(name).decode("cp1252" if "kettle" in name else "utf-8")).split()
    )
    for paragraph in gold(name).split("\n\n"):
        assert " ".join(paragraph.split()) in page_text, paragraph[:60]


# --- extract_page ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GOLD_PAGES)
def test_extracted_text_matches_the_known_article(name: str) -> None:
    page = extract(name)
    assert word_f1(page.text, gold(name)) >= 0.9
    paragraphs = gold(name).split("\n\n")
    # Paragraph structure survives: first and last paragraphs appear whole, blank-line separated.
    text_paragraphs = page.text.split("\n\n")
    assert paragraphs[0] in text_paragraphs
    assert paragraphs[-1] in text_paragraphs


@pytest.mark.parametrize(
    ("name", "boilerplate"),
    [
        ("harbour-times-kessel-bridge", "212 partners use cookies"),
        ("harbour-times-kessel-bridge", "the bridge shakes when the lorries go over"),
        ("harbour-times-kessel-bridge", "Council report warned of bridge wear"),
        ("harbour-times-kessel-bridge", "Registered in England"),
        ("valley-post-bridge-detours", "morning briefing"),
        ("valley-post-bridge-detours", "School league tables"),
        ("coastal-wire-storm-imogen", "Scroll to continue"),
        ("coastal-wire-storm-imogen", "Ferry crews vote to strike"),
        ("northern-ledger-night-bus", "two hour walk after a ten hour shift"),
        ("northern-ledger-night-bus", "Why the high street closes"),
        ("fenwick-gazette-sellick-cleanup", "Fenwick farmers' market returns"),
        ("fenwick-gazette-sellick-cleanup", "Thank you to everyone who came to help"),
        ("kitchen-table-blog-food-bank", "Winter coat drive"),
        ("kitchen-table-blog-food-bank", "Leave a Reply"),
        ("consumer-watch-kettle-recall", "Ask the expert"),
    ],
)
def test_boilerplate_is_left_out(name: str, boilerplate: str) -> None:
    assert boilerplate not in extract(name).text


def test_headline_is_not_repeated_as_the_first_paragraph() -> None:
    page = extract("harbour-times-kessel-bridge")
    assert not page.text.startswith("Kessel Bridge shut indefinitely")


@pytest.mark.parametrize(
    ("name", "title", "author", "published", "site_name", "language"),
    [
        (
            "harbour-times-kessel-bridge",
            "Kessel Bridge shut indefinitely after inspectors find cracked piers",
            "Morag Linnell",
            datetime(2025, 3, 11, 7, 40, tzinfo=UTC),
            "Harbour Times",
            "en-gb",
        ),
        (
            "valley-post-bridge-detours",
            "Commuters face long detours as cracked Kessel Bridge is closed",
            "Dafydd Orme",
            datetime(2025, 3, 11, 9, 5, tzinfo=UTC),
            "The Valley Post",
            "en",
        ),
        (
            "lab-ledger-ridley-vents",
            "Robot survey finds dozens of unknown vents on the Ridley Seamount",
            "Priya Castellanos",
            datetime(2025, 3, 10, 12, 0, tzinfo=UTC),
            "The Lab Ledger",
            "en",
        ),
    ],
)
def test_page_metadata(
    name: str,
    title: str,
    author: str,
    published: datetime,
    site_name: str,
    language: str,
) -> None:
    page = extract(name)
    assert page.title == title
    assert page.author == author
    assert page.published == published
    assert page.published is not None and page.published.tzinfo is not None
    assert page.site_name == site_name
    assert page.language == language


def test_canonical_url_comes_from_the_page_without_tracking_or_fragment() -> None:
    assert extract("harbour-times-kessel-bridge").canonical_url == (
        f"{BASE}/pages/harbour-times-kessel-bridge.html"
    )
    assert extract("lab-ledger-ridley-vents").canonical_url == (
        f"{BASE}/pages/lab-ledger-ridley-vents.html"
    )


def test_windows_1252_page_is_decoded_from_its_meta_charset() -> None:
    page = extract("consumer-watch-kettle-recall")
    assert "about €49" in page.text
    assert "Hélène Marchetti" in page.text
    assert "“on” position" in page.text
    assert page.published == datetime(2025, 3, 12, tzinfo=UTC)


def test_table_layout_page_is_not_one_run_on_row() -> None:
    page = extract("consumer-watch-kettle-recall")
    # With tables included, trafilatura gives the layout table as "| nav | article |" rows.
    assert "| Home" not in page.text and "Your rights, your money" not in page.text
    assert page.text.split("\n\n")[:6] == gold("consumer-watch-kettle-recall").split("\n\n")


def test_live_blog_keeps_every_post() -> None:
    text = extract("marrow-courier-election-live").text
    for fact in ("61.4 per cent", "2,318 votes", "all 28 wards", "closed at ten o'clock"):
        assert fact in text


def test_paywalled_page_is_not_usable_with_favor_precision() -> None:
    with pytest.raises(ExtractError) as info:
        extract("harbour-times-dredging-paywall", favor_precision=True)
    assert "words of article text found" in str(info.value)


def test_section_front_is_not_an_article() -> None:
    with pytest.raises(ExtractError) as info:
        extract("valley-post-section-front")
    assert str(info.value).startswith(f"{BASE}/pages/valley-post-section-front.html: only ")


@pytest.mark.parametrize("html", [b"", "   ", b"<html><body></body></html>"])
def test_empty_pages_raise_extract_error(html: bytes | str) -> None:
    with pytest.raises(ExtractError):
        extract_page(html, "https://news.example/empty")


def test_not_html_at_all_raises_extract_error() -> None:
    with pytest.raises(ExtractError):
        extract_page(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "https://news.example/i.png")


# --- html_to_text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One&nbsp;<b>two</b></p><p>Three</p>", "One two\n\nThree"),
        ("Line one<br>still one<br><br>two", "Line one still one\n\ntwo"),
        ("<div>a<div>b</div>c</div>", "a\n\nb\n\nc"),
        ("<p>Keep</p><script>alert(1)</script><style>p{}</style>", "Keep"),
        ("<p>x</p><!-- note -->after", "x\n\nafter"),
        ("<ul><li>first</li><li>second</li></ul>", "first\n\nsecond"),
        ("Fish &amp; chips\n\nMushy peas", "Fish & chips\n\nMushy peas"),
        ("<p>&lt;!channel&gt; stays as text</p>", "<!channel> stays as text"),
        ("", ""),
        ("   ", ""),
        ("<p>Story.</p><p>Read more</p>", "Story."),
        ("<p>Story.</p><p><a href='#'>Continue reading →</a></p>", "Story."),
        (
            "<p>Story.</p><p>The post <a href='x'>Title</a> appeared first on "
            "<a href='y'>Site</a>.</p>",
            "Story.",
        ),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


@settings(deadline=None)
@given(st.text(max_size=300))
def test_html_to_text_never_crashes_and_has_no_stray_whitespace(html: str) -> None:
    text = html_to_text(html)
    for paragraph in text.split("\n\n"):
        assert paragraph == " ".join(paragraph.split())


# --- needs_page / build_article ----------------------------------------------------------------


def item(summary_html: str = "<p>Short teaser.</p>", **overrides: object) -> FeedItem:
    fields: dict[str, object] = {
        "key": "https://www.news.example/a",
        "feed_url": "https://www.news.example/feed.xml",
        "feed_title": "News Example Feed",
        "url": "https://www.news.example/a",
        "guid": "a",
        "title": "Feed title of the story",
        "summary_html": summary_html,
        "published": datetime(2025, 3, 11, 8, 0, tzinfo=UTC),
        "priority": 2,
    }
    fields.update(overrides)
    return FeedItem(**fields)  # type: ignore[arg-type]


def page(**overrides: object) -> ExtractedPage:
    fields: dict[str, object] = {
        "title": "Page title | Outlet",
        "text": "First paragraph of the page has words.\n\nSecond paragraph has more words.",
        "author": "Page Author",
        "published": datetime(2025, 3, 10, 9, 0, tzinfo=UTC),
        "site_name": "The Outlet",
        "canonical_url": "https://news.example/a",
        "language": "en",
    }
    fields.update(overrides)
    return ExtractedPage(**fields)  # type: ignore[arg-type]


def test_needs_page_for_teasers_only() -> None:
    settings = ExtractSettings(teaser_words=10)
    assert needs_page(item("<p>Only five words here.</p>"), settings)
    assert not needs_page(item("<p>" + "word " * 10 + "</p>"), settings)
    assert not needs_page(item(url=None), settings)
    assert not needs_page(item(), ExtractSettings(fetch_pages=False))


def test_build_article_from_page() -> None:
    article = build_article(item(), page(), feed_title="Configured Name")
    assert article.text == page().text
    assert article.title == "Feed title of the story"  # the feed's, not "Page title | Outlet"
    assert article.outlet == "The Outlet"
    assert article.published == datetime(2025, 3, 11, 8, 0, tzinfo=UTC)  # the feed's date
    assert article.author == "Page Author"
    assert article.from_feed_only is False
    assert article.priority == 2
    assert article.key == "https://www.news.example/a"
    assert article.content_hash == content_hash(page().text)


def test_build_article_from_feed_text_when_the_page_failed() -> None:
    article = build_article(
        item("<p>Teaser &amp; more.</p><p>Second.</p>", published=None, author="Feed Author"),
        None,
        feed_title=None,
        page_error="HTTP 404 Not Found",
    )
    assert article.text == "Teaser & more.\n\nSecond."
    assert article.from_feed_only is True
    assert article.outlet == "News Example Feed"  # no page: the feed's title
    assert article.published is None
    assert article.author == "Feed Author"


def test_build_article_outlet_falls_back_to_host_without_www() -> None:
    article = build_article(item(feed_title=None), None, feed_title=None)
    assert article.outlet == "news.example"
    configured = build_article(item(), page(site_name=None), feed_title="Configured Name")
    assert configured.outlet == "Configured Name"


def test_build_article_uses_page_date_and_title_when_the_feed_has_none() -> None:
    article = build_article(item(published=None, title=""), page(), feed_title=None)
    assert article.published == datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    assert article.title == "Page title | Outlet"


def test_build_article_keeps_the_longer_feed_text_over_a_paywalled_page() -> None:
    feed_text = "<p>" + " ".join(f"word{i}" for i in range(60)) + "</p>"
    article = build_article(item(feed_text), page(text="Subscribe to read."), feed_title=None)
    assert article.text.startswith("word0 word1")
    assert article.outlet == "The Outlet"  # the page still names the outlet


def test_content_hash_ignores_whitespace_only() -> None:
    assert content_hash("a  b\n\nc") == content_hash("a b c")
    assert content_hash("a b c") != content_hash("a b d")


# --- over HTTP: feed -> teaser -> page -> Article -----------------------------------------------


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[HTTPServer, str]]:
    with running_server() as server:
        yield server, serve_fixture_site(server)


def test_teaser_feed_to_articles_over_http(site: tuple[HTTPServer, str]) -> None:
    _, base = site
    fetch_settings = FetchSettings(allow_private_addresses=True)
    fetcher = Fetcher(build_client(fetch_settings), fetch_settings)
    feed_result = fetcher.fetch(f"{base}/feeds/harbour-times.rss")
    assert feed_result.content is not None
    feed = parse_feed(feed_result.content, feed_result.final_url)
    settings = ExtractSettings()
    articles = []
    for entry in feed.items:
        assert needs_page(entry, settings)
        assert entry.url is not None
        result = fetcher.fetch(entry.url)
        assert result.ok and result.content is not None
        try:
            extracted = extract_page(result.content, result.final_url, favor_precision=True)
            error = None
        except ExtractError as e:
            extracted, error = None, str(e)
        articles.append(build_article(entry, extracted, feed_title=feed.title, page_error=error))
    bridge, dredging = articles
    assert bridge.from_feed_only is False
    assert bridge.outlet == "Harbour Times"
    assert word_f1(bridge.text, gold("harbour-times-kessel-bridge")) >= 0.95
    # The paywalled page gave too little text: the feed's longer teaser is used.
    assert dredging.from_feed_only is True
    assert "14 million pounds" in dredging.text
    assert dredging.outlet == "Harbour Times - Local news"


# --- many pages: worker processes ------------------------------------------------------------


def test_extract_pages_in_processes_matches_in_process(monkeypatch) -> None:
    """Worker processes give the same pages, in order, and the same failures as one process."""
    from digest import extract as extract_module

    monkeypatch.setattr(extract_module, "MIN_PAGES_FOR_PROCESSES", 2)
    pages: list[tuple[bytes, str | None]] = [
        (page_bytes(name), f"{BASE}/pages/{name}.html") for name in GOLD_PAGES
    ]
    pages.insert(1, (b"<html><body><p>Too short.</p></body></html>", f"{BASE}/short.html"))
    pages.append((b"   ", f"{BASE}/blank.html"))
    alone = extract_module.extract_pages(pages, processes=1)
    shared = extract_module.extract_pages(pages, processes=2)
    assert shared == alone
    assert isinstance(alone[1], str) and "words of article text" in alone[1]
    assert isinstance(alone[-1], str) and "empty" in alone[-1]
    assert all(isinstance(p, ExtractedPage) for p in alone[2:-1])


def test_extract_pages_retries_a_broken_pool_once_then_reports_the_pages(
    monkeypatch, caplog
) -> None:
    """A dead worker costs one retry in a fresh pool; a page that kills it again is reported
    as failed (its item keeps the feed's text), never extracted in the calling process."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from digest import extract as extract_module

    pools: list[str] = []

    def breaking_then(real_after: int):
        class Pool:
            def __new__(cls, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
                pools.append("pool")
                if len(pools) <= real_after:
                    raise BrokenProcessPool("a worker was killed")
                return ProcessPoolExecutor(*args, **kwargs)  # type: ignore[arg-type]

        return Pool

    monkeypatch.setattr(extract_module, "MIN_PAGES_FOR_PROCESSES", 2)
    pages: list[tuple[bytes, str | None]] = [
        (page_bytes(name), f"{BASE}/pages/{name}.html") for name in GOLD_PAGES[:3]
    ]
    monkeypatch.setattr(extract_module, "ProcessPoolExecutor", breaking_then(1))
    with caplog.at_level("WARNING"):
        out = extract_module.extract_pages(pages, processes=2)
    assert len(pools) == 2 and "retrying the other 3 pages" in caplog.text
    assert [p.text for p in out] == [extract(n).text for n in GOLD_PAGES[:3]]  # type: ignore[union-attr]

    pools.clear()
    caplog.clear()
    monkeypatch.setattr(extract_module, "ProcessPoolExecutor", breaking_then(2))
    with caplog.at_level("WARNING"):
        out = extract_module.extract_pages(pages, processes=2)
    assert len(pools) == 2 and "giving up on the other 3 pages" in caplog.text
    assert all(isinstance(p, str) and "extraction worker died" in p for p in out)


def test_chinese_and_japanese_text_counts_words_without_spaces() -> None:
    """Unspaced CJK text is not one 'word' per sentence: a full article is not a teaser."""
    from digest.text import whitespace_word_count

    sentence = "市によると、新しい橋には一日に二万台の車が通る予定だ。"  # 26 characters, no spaces
    assert whitespace_word_count(sentence) == 13
    assert whitespace_word_count("The bridge opens 東京 today") == 5
    settings = ExtractSettings(teaser_words=150)
    assert not needs_page(item("<p>" + sentence * 12 + "</p>"), settings)  # 156 words: full
    assert needs_page(item("<p>" + sentence + "</p>"), settings)  # 13 words: a teaser


# --- boilerplate inside the article body (issue 10) --------------------------------------------

_STORY_PARAGRAPHS = [
    "Harlow Home Supply said on Tuesday that sales at stores open a year fell 3.2% in the "
    "quarter, the third fall in a row, as shoppers put off kitchen and garden projects.",
    "The retailer cut its forecast for the year and said it now expects sales to be flat. "
    "Its shares fell 5% in early trading after the announcement in New York.",
    "Chief executive Rosa Delmar said higher mortgage rates had kept buyers away from big "
    "renovations, and that the chain would slow the opening of new stores next year.",
]
_FURNITURE = [
    "To order presentation-ready copies for distribution to colleagues, clients or "
    "customers, visit the reprints page.",
    "Sign up for our Morning Markets newsletter to get the day's business news in your inbox.",
    "Click here to read our full coverage of the retail sector.",
    "Photo by Jane Ortiz / Harbour Images.",
    "This article first appeared in the Weekend Ledger.",
    "Read more: Why home prices are stalling in the suburbs",
    "Share this article on Facebook or X.",
    "We use cookies to improve your experience on our site.",
    "Copyright 2025 The Ledger. All rights reserved.",
    "For the latest stories and breaking news updates download the Ledger apps for iOS and "
    "Android.",
    "Аdvеrtіѕе with the most visited business site in the region.",  # Cyrillic lookalikes
]


def _page(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<html><head><title>Harlow Home Supply cuts forecast as sales slide</title></head>"
        f"<body><nav><a href='/'>Home</a></nav><article><h1>Harlow Home Supply cuts "
        f"forecast as sales slide</h1>{body}</article><footer>About us</footer></body></html>"
    )


def test_boilerplate_paragraphs_inside_the_article_are_dropped() -> None:
    mixed = [_STORY_PARAGRAPHS[0], *_FURNITURE[:6], _STORY_PARAGRAPHS[1], *_FURNITURE[6:]]
    page = extract_page(_page([*mixed, _STORY_PARAGRAPHS[2]]))
    assert page.text.split("\n\n") == _STORY_PARAGRAPHS


def test_a_credit_sentence_inside_a_story_paragraph_goes_and_the_story_stays() -> None:
    glued = _STORY_PARAGRAPHS[1] + " Click here to subscribe to our newsletter."
    page = extract_page(_page([_STORY_PARAGRAPHS[0], glued, _STORY_PARAGRAPHS[2]]))
    assert page.text.split("\n\n") == _STORY_PARAGRAPHS


@pytest.mark.parametrize(
    "sentence",
    [
        "Subscribers rose 5% in the quarter, the company said.",
        "The share of shoppers using the app fell to 12%.",
        "Police said a photographer was among those arrested.",
    ],
)
def test_news_that_mentions_the_same_words_is_not_boilerplate(sentence: str) -> None:
    from digest.extract import is_boilerplate

    assert not is_boilerplate(sentence)


def test_text_repeated_on_many_pages_of_one_site_is_dropped() -> None:
    from digest.extract import drop_site_repeats

    promo = "The Ledger is an independent newsroom covering business across the valley since 1921."
    stories = [
        "The port authority approved a new container terminal on Monday after two years of "
        "planning and public hearings.",
        "A storm knocked out power to 12,000 homes overnight, the utility said on Tuesday.",
        "The city council voted to freeze bus fares for another year at its meeting.",
    ]
    html = [
        _page([s, promo]).replace("Harlow Home Supply cuts", f"Story {i}")
        for i, s in enumerate(stories)
    ]
    pages = [extract_page(h, f"https://ledger.example/{i}") for i, h in enumerate(html)]
    assert all(promo in p.text for p in pages)  # one page alone cannot tell
    out = drop_site_repeats(pages, [f"https://ledger.example/{i}" for i in range(3)])
    assert [p.text for p in out] == stories  # type: ignore[union-attr]
    # The same paragraph on pages of three *different* sites is left alone.
    other = drop_site_repeats(pages, [f"https://site{i}.example/a" for i in range(3)])
    assert all(promo in p.text for p in other)  # type: ignore[union-attr]

"""URL identity (canonical_url, item_key) and link safety (check_link, is_private_url)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.errors import UnsafeURLError
from digest.feeds import item_key
from digest.urls import canonical_url, check_link, host_of, is_private_url

# --- canonical_url -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://News.Example.COM/a/b", "https://news.example.com/a/b"),
        ("https://news.example.com/story#comments", "https://news.example.com/story"),
        ("https://news.example.com:443/x", "https://news.example.com/x"),
        ("http://news.example.com:80/x", "http://news.example.com/x"),
        ("http://news.example.com:8080/x", "http://news.example.com:8080/x"),
        ("https://news.example.com", "https://news.example.com/"),
        (
            "https://news.example.com/s?utm_source=rss&utm_medium=feed&id=7&fbclid=abc&gclid=x",
            "https://news.example.com/s?id=7",
        ),
        ("https://news.example.com/s?b=2&a=1", "https://news.example.com/s?a=1&b=2"),
        ("  https://news.example.com/padded  ", "https://news.example.com/padded"),
    ],
)
def test_canonical_url_normalises(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "mailto:a@b.example",
        "ftp://files.example/x",
        "news.example/x",
        "",
        "http://",
        "https://news.example:notaport/x",
    ],
)
def test_canonical_url_is_none_for_non_web_urls(url: str) -> None:
    assert canonical_url(url) is None


def test_canonical_url_keeps_parameters_that_name_the_article() -> None:
    a = canonical_url("https://news.example/article.php?story=123")
    b = canonical_url("https://news.example/article.php?story=124")
    assert a != b


web_urls = st.builds(
    lambda scheme, host, path, query, frag: f"{scheme}://{host}/{path}{query}{frag}",
    st.sampled_from(["http", "https", "HTTP", "HtTpS"]),
    st.from_regex(
        r"[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?(\.[A-Za-z]{2,6}){1,2}", fullmatch=True
    ),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30),
    st.one_of(
        st.just(""),
        st.lists(
            st.tuples(
                st.sampled_from(["id", "page", "utm_source", "fbclid", "q", "x y", "ä"]),
                st.text(max_size=8),
            ),
            max_size=4,
        ).map(lambda kv: "?" + "&".join(f"{k}={v}" for k, v in kv)),
    ),
    st.one_of(st.just(""), st.text(max_size=10).map(lambda f: "#" + f)),
)


@settings(max_examples=300, deadline=None)
@given(web_urls)
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    if once is not None:
        assert canonical_url(once) == once
        assert "#" not in once


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_canonical_url_never_crashes_on_any_text(text: str) -> None:
    result = canonical_url(text)
    assert result is None or result.startswith(("http://", "https://"))


@settings(max_examples=200, deadline=None)
@given(web_urls, st.text(max_size=8), st.text(max_size=8))
def test_tracking_and_fragment_do_not_change_identity(url: str, tracker: str, frag: str) -> None:
    base = url.split("#", 1)[0].strip()
    joiner = "&" if "?" in base else "?"
    noisy = f"{base}{joiner}utm_campaign={tracker}#{frag}"
    assert canonical_url(noisy) == canonical_url(base)


# --- item_key ----------------------------------------------------------------------------------


def test_item_key_prefers_canonical_url_then_guid_then_hash() -> None:
    assert item_key("https://News.example/a?utm_source=x", "g1", "T", "x") == (
        "https://news.example/a"
    )
    assert item_key(None, "g1", "T", "x") == "guid:g1"
    assert item_key("javascript:alert(1)", "g1", "T", "x") == "guid:g1"
    hashed = item_key(None, None, "Title", "Body text")
    assert hashed.startswith("sha256:") and len(hashed) == len("sha256:") + 64


def test_item_key_scopes_plain_guids_to_their_feed() -> None:
    a = item_key(None, "42", "T", "x", feed_url="https://a.example/rss")
    b = item_key(None, "42", "T", "x", feed_url="https://b.example/rss")
    assert a != b
    # A GUID that is itself a URL is global already.
    url_guid = "https://a.example/posts/42"
    assert item_key(None, url_guid, "T", "x", feed_url="https://b.example/rss") == (
        f"guid:{url_guid}"
    )


def test_item_key_hash_ignores_whitespace_differences() -> None:
    assert item_key(None, None, "A  title", "some\n\ntext ") == item_key(
        None, None, "A title", "some text"
    )
    assert item_key(None, None, "A title", "some text") != item_key(
        None, None, "A title", "other text"
    )


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.none(), web_urls, st.text(max_size=40)),
    st.one_of(st.none(), st.text(max_size=20)),
    st.text(max_size=40),
    st.text(max_size=100),
)
def test_item_key_is_stable_and_never_crashes(
    url: str | None, guid: str | None, title: str, text: str
) -> None:
    key = item_key(url, guid, title, text)
    assert key == item_key(url, guid, title, text)
    assert key.startswith(("http://", "https://", "guid:", "sha256:"))
    if key.startswith("http"):
        # The key of an item is a fixed point: keying its own canonical URL gives itself.
        assert item_key(key, guid, title, text) == key


# --- check_link --------------------------------------------------------------------------------


def no_dns(host: str) -> list[str]:
    """A resolver for tests that must not touch the network: every name fails to resolve."""
    raise OSError(f"no DNS in tests: {host}")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "ftp://files.example/a",
        "mailto:someone@example.com",
        "//news.example/no-scheme",
        "news.example/relative",
        "http:///no-host",
    ],
)
def test_check_link_refuses_non_web_links(url: str) -> None:
    with pytest.raises(UnsafeURLError) as info:
        check_link(url, allow_private=True, resolve=no_dns)
    assert info.value.url == url


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://127.9.8.7:8080/admin", "loopback"),
        ("http://10.0.0.5/router", "private"),
        ("http://172.16.3.4/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://100.64.0.1/", "non-public"),
        ("http://[::1]/", "loopback"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fc00::1]/", "private"),
        ("http://[::]/", "unspecified"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[::ffff:10.1.2.3]/", "private"),
        ("http://[64:ff9b::a00:1]/", "private"),
        ("http://[2002:7f00:1::]/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://0x7f000001/", "loopback"),
        ("http://0177.0.0.1/", "loopback"),
        ("http://127.1/", "loopback"),
        ("http://0x0a.0.0.1/", "private"),
        ("http://user:pw@127.0.0.1/", "loopback"),
    ],
)
def test_check_link_refuses_literal_private_addresses(url: str, kind: str) -> None:
    with pytest.raises(UnsafeURLError) as info:
        check_link(url, allow_private=False, resolve=no_dns)
    assert f"{kind} address" in info.value.reason


def test_check_link_refuses_a_name_that_resolves_to_a_private_address() -> None:
    def resolve(host: str) -> list[str]:
        return {"intranet.corp.example": ["93.184.216.34", "10.1.2.3"]}[host]

    with pytest.raises(UnsafeURLError) as info:
        check_link("https://intranet.corp.example/payroll", allow_private=False, resolve=resolve)
    assert info.value.reason == "intranet.corp.example resolves to 10.1.2.3, a private address"


def test_check_link_accepts_public_addresses_and_unresolvable_names() -> None:
    def resolve(host: str) -> list[str]:
        return {"news.example": ["93.184.216.34", "2606:2800:220:1::1"]}[host]

    assert check_link("https://news.example/a", allow_private=False, resolve=resolve)
    assert check_link("http://93.184.216.34/", allow_private=False, resolve=no_dns)
    # A name that does not resolve is not unsafe; fetching it fails on its own.
    assert check_link("https://nxdomain.example/", allow_private=False, resolve=no_dns)


def test_check_link_allows_private_addresses_when_asked() -> None:
    assert check_link("http://127.0.0.1:8000/feed", allow_private=True, resolve=no_dns)
    assert check_link("http://[::1]/", allow_private=True, resolve=no_dns)


def test_is_private_url() -> None:
    def resolve(host: str) -> list[str]:
        return {"intranet.example": ["192.168.0.10"], "news.example": ["93.184.216.34"]}[host]

    assert is_private_url("http://127.0.0.1:5000/feed.xml", resolve=resolve)
    assert is_private_url("http://intranet.example/feed", resolve=resolve)
    assert not is_private_url("https://news.example/feed", resolve=resolve)
    assert not is_private_url("not a url", resolve=resolve)


def test_host_of_drops_www() -> None:
    assert host_of("https://www.News.example/a") == "news.example"
    assert host_of("https://news.example:8443/a") == "news.example"
    assert host_of(None) is None
    assert host_of("javascript") is None

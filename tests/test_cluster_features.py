"""Text features the clusterer compares: names, numbers, boilerplate, thin evidence, URLs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from digest.cluster.features import (
    article_features,
    english_ratio,
    identity_url,
    names,
    numbers,
    strip_boilerplate,
    unwrap,
)
from digest.cluster.neardup import MinHasher, from_bytes, jaccard, to_bytes
from digest.models import Article


def article(title: str, text: str, **kw) -> Article:
    return Article(
        key="k",
        feed_url="f",
        url=kw.pop("url", "https://x.example/a"),
        title=title,
        text=text,
        outlet=kw.pop("outlet", "Outlet"),
        content_hash="h",
        **kw,
    )


def test_names_keep_people_places_and_acronyms_not_sentence_starts() -> None:
    text = (
        "Rescuers worked through the night in Antofagasta. Codelco said two sites were shut. "
        "Governor Tiff Macklem of the Bank of Canada spoke later. The USGS and U.S. officials "
        "agreed.\n\nShares fell. Investors in Codelco were calm."
    )
    found = names(text)
    expected = {"antofagasta", "codelco", "tiff macklem", "macklem", "bank of canada", "usgs"}
    assert expected <= found
    assert not {"rescuers", "shares", "the", "investors", "governor"} & found
    # "Bank" and "Canada"'s generic part stay inside the full name only.
    assert "bank" not in found and "canada" in found


def test_headline_case_title_words_need_confirmation_from_the_body() -> None:
    title = "Council Approves Delivery of Flood Barriers to Norland Amid Storms"
    body = "The decision means Norland will receive barriers soon, officials in Kellby said."
    found = names(body, title)
    assert "norland" in found and "kellby" in found
    assert not {"approves", "delivery", "barriers", "amid", "storms"} & found


def test_numbers_normalise_and_skip_years_and_small_counts() -> None:
    text = "About 120,000 cars, a 6.80 quake, rates at 2.75%, $9.1 billion, 3 dead, in 2024."
    assert numbers(text) == {"120000", "6.8", "2.75%", "9.1"}
    assert numbers("Sporting beat Benfica 2-1; the court ruled 6–3.") == {"2-1", "6-3"}


def test_press_release_boilerplate_and_datelines_are_removed() -> None:
    body, is_release = strip_boilerplate(
        "CHICAGO, March 6, 2025 /PRNewswire/ -- Acme Corp today announced a new plant.\n\n"
        "The plant will employ 300 people.\n\nAbout Acme\n\nAcme makes everything.\n\n"
        "Forward-Looking Statements\n\nThis release contains forward-looking statements."
    )
    assert is_release
    assert body == "Acme Corp today announced a new plant.\n\nThe plant will employ 300 people."
    wire, _ = strip_boilerplate("LONDON (Global Wire) - A cloud outage hit banks on Friday.")
    assert wire == "A cloud outage hit banks on Friday."
    # An ordinary story starting with "About" keeps its first paragraph.
    kept, _ = strip_boilerplate("About 8,000 people fled a wildfire near Boulder on Wednesday.")
    assert kept.startswith("About 8,000 people")


def test_thin_reasons() -> None:
    long_text = " ".join(["The council approved the budget for the new library in Riverton."] * 6)
    full = article_features(article("Riverton council approves library budget", long_text))
    assert full.thin == ()
    teaser = article_features(article("Riverton council approves library budget", "More soon."))
    assert teaser.thin == ("teaser: 2 words",)
    assert "empty text" in article_features(article("Council approves budget", "")).thin
    assert any(
        r.startswith("short title")
        for r in article_features(article("Watch: budget", long_text)).thin
    )
    spanish = "El consejo aprobó el presupuesto de la nueva biblioteca de la ciudad " * 6
    es = article_features(article("El consejo aprueba presupuesto", spanish))
    assert "not English" in es.thin


def test_lines_are_unwrapped() -> None:
    assert unwrap("A long line of text that was wrapped by\nthe feed.\n\nNext") == (
        "A long line of text that was wrapped by the feed.\n\nNext"
    )


def test_identity_url_ignores_scheme_www_slash_and_tracking() -> None:
    a = identity_url("https://www.news.example/story/?utm_source=x")
    assert a == identity_url("http://news.example/story") == "news.example/story"
    assert identity_url("mailto:x@example.com") is None
    assert identity_url(None) is None


@given(st.text(max_size=300))
def test_features_never_crash_and_ratio_is_a_share(text: str) -> None:
    f = article_features(article(text[:40], text))
    assert 0.0 <= english_ratio(text) <= 1.0
    assert all(n == n.lower() and n.strip() for n in f.names)
    assert f.body_words >= 0


@given(
    st.text(alphabet=st.characters(categories=["L", "N", "P", "Zs"]), max_size=80),
    st.sampled_from(["http", "https"]),
)
def test_identity_url_is_stable(path: str, scheme: str) -> None:
    url = f"{scheme}://www.site.example/{path}"
    first = identity_url(url)
    if first is not None:
        assert identity_url("https://" + first) == first


def test_minhash_round_trips_and_estimates_overlap() -> None:
    hasher = MinHasher()
    base = " ".join(f"word{i}" for i in range(200))
    edited = base.replace("word50 word51", "other thing")
    a, b = hasher.signature(base), hasher.signature(edited)
    assert a is not None and b is not None
    assert jaccard(a, from_bytes(to_bytes(a))) == 1.0
    assert 0.85 < jaccard(a, b) < 1.0
    assert hasher.signature("too short to judge") is None

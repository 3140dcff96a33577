"""Rendering: golden files for every format, escaping of hostile feed text, Slack splitting."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_api import block_kit_errors, blocks_text_length, message_error

from digest import render
from digest.errors import ConfigError
from digest.models import (
    Article,
    Bullet,
    Digest,
    DigestStory,
    MergeReason,
    QuickLooks,
    Story,
)

DATA = Path(__file__).parent / "data" / "render"
NOW = datetime(2025, 3, 14, 7, 0, tzinfo=UTC)


# --- a fixed digest, written for these tests ---------------------------------------------------


def article(key: str, outlet: str, title: str, url: str | None, hours_ago: float = 2) -> Article:
    return Article(
        key=key,
        feed_url=f"https://{outlet.lower().replace(' ', '')}.example/rss",
        url=url,
        title=title,
        text="Body text is not rendered.",
        outlet=outlet,
        content_hash=f"hash-{key}",
        published=NOW - timedelta(hours=hours_ago),
    )


def story(
    sid: str,
    headline: str,
    articles: tuple[Article, ...],
    bullets: tuple[Bullet, ...],
    *,
    deep_look: str | None = None,
    is_update: bool = False,
    merges: tuple[MergeReason, ...] = (),
) -> DigestStory:
    s = Story(
        id=sid,
        headline=headline,
        articles=articles,
        first_seen=NOW - timedelta(hours=5),
        last_updated=NOW - timedelta(hours=1),
        merges=merges,
    )
    ql = QuickLooks(headline=headline, bullets=bullets, model="extractive", deep_look=deep_look)
    return DigestStory(s, ql, is_update=is_update)


def daily_digest() -> Digest:
    barrier = story(
        "story-barrier",
        "Harbour city closes its tidal barrier as storm surge nears",
        (
            article(
                "a1",
                "Coastal Herald",
                "Tidal barrier shut for first time this winter",
                "https://coastal-herald.example/news/barrier-shut?utm_source=rss&id=7",
                3,
            ),
            article(
                "a2",
                "Northern Wire",
                "Storm surge: port city seals flood gates",
                "https://northernwire.example/2025/03/14/surge",
                2.5,
            ),
            article(
                "a3",
                "Bay Radio",
                "Flood gates close across the bay",
                "https://bayradio.example/flood-gates",
                1.5,
            ),
        ),
        (
            Bullet(
                "Barrier closed",
                "Engineers lowered all six gates before the evening high "
                "tide, the port authority said.",
                ("The gates were lowered at 16:00.",),
            ),
            Bullet(
                "Surge forecast",
                "Forecasters expect water up to 1.9 metres above normal "
                "along the estuary overnight.",
            ),
            Bullet("Ferries halted", "Cross-bay ferries stay in port until Saturday morning."),
            Bullet(
                "Residents advised",
                "Low-lying streets near the old docks were told to move cars to higher ground.",
            ),
        ),
        deep_look=(
            "The barrier was finished eleven years ago and has been closed fourteen times, "
            "most of them in late winter when spring tides meet Atlantic storms.\n\n"
            "City engineers say the gates can hold back a surge of up to three metres, but the "
            "harbour walls outside the barrier remain the weak point."
        ),
        merges=(
            MergeReason("a2", "same_event", 0.8123456, "shared entities: barrier, surge, port"),
            MergeReason("a3", "near_duplicate", 0.93, "MinHash Jaccard 0.93"),
        ),
    )
    strike = story(
        "story-rail",
        "Regional rail strike called off after late pay offer",
        (
            article(
                "b1",
                "Northern Wire",
                "Rail strike suspended",
                "https://northernwire.example/2025/03/14/rail",
                1,
            ),
        ),
        (Bullet("Deal reached", "Union members will vote next week on a two-year offer."),),
        is_update=True,
    )
    comet = story(
        "story-comet",
        "Observatory reports a comet brightening faster than forecast",
        (article("c1", "Sky Notes", "A comet surprises its watchers", None, 6),),
        (
            Bullet("Brightness", "The comet may become visible with binoculars by April."),
            Bullet("", "Astronomers ask amateur observers to send their measurements."),
        ),
    )
    return Digest(
        name="world",
        generated_at=NOW,
        stories=(barrier, strike, comet),
        notes=("feed https://down.example/rss: timed out after 20s",),
    )


HOSTILE = "<!channel> <@U123> <https://evil.example|click here> & co\r\nBcc: victim@example.com"


def hostile_digest() -> Digest:
    bad = story(
        "story-hostile",
        HOSTILE,
        (
            article(
                "h1",
                "<!here> Outlet",
                "Title with <script>alert(1)</script>",
                "javascript:alert(1)",
            ),
            article(
                "h2", "Good & Proper", "A normal title", "https://good.example/a?x=<b>&y=|pipe|"
            ),
            article("h3", "Data Outlet", "data link", "data:text/html,<script>alert(1)</script>"),
        ),
        (
            Bullet(
                "<@U999> ping",
                "Call <tel:123|now> or see <http://x.example|this> *now* \u202eevil\u202c & `code`",
            ),
            Bullet("Label\nwith break", "Text with <!subteam^S123> and <#C123>."),
        ),
        deep_look="Deep <b>bold</b> & [link](javascript:alert(1))",
    )
    return Digest(name="world", generated_at=NOW, stories=(bad,))


def alert_digest() -> Digest:
    quake = story(
        "story-quake",
        "Strong earthquake shakes coastal towns",
        (
            article(
                "q1",
                "Northern Wire",
                "Quake felt along the coast",
                "https://northernwire.example/quake",
                0.2,
            ),
        ),
        (Bullet("Magnitude", "The survey put the shock at 6.1 with a shallow depth."),),
    )
    return Digest(
        name="world",
        generated_at=NOW,
        stories=(quake,),
        kind="alert",
        reason="rule 'quakes': keyword 'earthquake' in 2 outlets within 30 minutes",
    )


def empty_digest() -> Digest:
    return Digest(name="tech-news", generated_at=NOW, stories=())


CASES = {
    "daily": daily_digest,
    "hostile": hostile_digest,
    "alert": alert_digest,
    "empty": empty_digest,
}


def check_golden(case: str, name: str, actual: str) -> None:
    path = DATA / case / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
        return
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 and review the diff"
    assert actual == path.read_bytes().decode("utf-8"), f"{path} differs (UPDATE_GOLDEN=1)"


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_files(case: str) -> None:
    d = CASES[case]()
    check_golden(case, "digest.md", render.render_markdown(d))
    check_golden(case, "digest.txt", render.render_text(d))
    check_golden(case, "digest.html", render.render_html(d))
    as_json = json.dumps(render.render_json(d, explain=True), indent=2, ensure_ascii=False)
    check_golden(case, "digest.json", as_json + "\n")
    slack = json.dumps(render.slack_payloads(render.render_slack(d)), indent=2, ensure_ascii=False)
    check_golden(case, "slack.json", slack + "\n")


# --- JSON ---------------------------------------------------------------------------------------


def test_json_has_the_documented_shape() -> None:
    out = render.render_json(daily_digest())
    assert out["digest"] == "world"
    assert out["generated_at"] == "2025-03-14T07:00:00Z"
    assert out["kind"] == "digest"
    first = out["stories"][0]
    assert set(first) == {
        "id", "headline", "url", "is_update", "published", "outlets", "bullets", "deep_look",
        "sources",
    }  # fmt: skip
    assert first["outlets"] == ["Coastal Herald", "Northern Wire", "Bay Radio"]
    assert first["bullets"][0] == {
        "label": "Barrier closed",
        "text": "Engineers lowered all six gates before the evening high tide, the port "
        "authority said.",
        "sources": ["The gates were lowered at 16:00."],
    }
    assert len(first["sources"]) == 3  # one per member article
    assert first["sources"][1] == {
        "outlet": "Northern Wire",
        "url": "https://northernwire.example/2025/03/14/surge",
        "title": "Storm surge: port city seals flood gates",
    }
    assert out["stories"][1]["is_update"] is True
    assert out["stories"][2]["url"] is None  # the only article has no link
    assert out["notes"] == ["feed https://down.example/rss: timed out after 20s"]
    json.dumps(out)  # serialisable as is


def test_json_explain_adds_merge_evidence() -> None:
    plain = render.render_json(daily_digest())
    explained = render.render_json(daily_digest(), explain=True)
    assert "merges" not in plain["stories"][0]
    assert explained["stories"][0]["merges"][0] == {
        "article": "a2",
        "level": "same_event",
        "score": 0.8123,
        "evidence": "shared entities: barrier, surge, port",
    }


def test_json_refuses_unsafe_links_and_cleans_text() -> None:
    out = render.render_json(hostile_digest())
    s = out["stories"][0]
    assert s["url"] == "https://good.example/a?x=<b>&y=|pipe|"  # first *safe* link, not the first
    assert [src["url"] for src in s["sources"]] == [
        None,
        "https://good.example/a?x=<b>&y=|pipe|",
        None,
    ]
    assert "\r" not in s["headline"] and "\n" not in s["headline"]
    assert "\u202e" not in s["bullets"][0]["text"]
    assert s["bullets"][1]["label"] == "Label with break"


# --- HTML ---------------------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs += [v or "" for k, v in attrs if k in ("href", "src", "action")]


def test_html_autoescapes_and_only_links_http() -> None:
    html = render.render_html(hostile_digest())
    parser = _Links()
    parser.feed(html)
    assert parser.hrefs, "the safe source should still be linked"
    assert all(h.startswith(("https://", "http://")) for h in parser.hrefs), parser.hrefs
    assert "script" not in parser.tags and "b" not in parser.tags
    assert "javascript:" not in html.replace("[link](javascript:alert(1))", "")
    assert "<script>" not in html and "Deep &lt;b&gt;bold&lt;/b&gt; &amp;" in html
    assert "&lt;!channel&gt;" in html


def test_html_is_an_email_layout() -> None:
    html = render.render_html(daily_digest())
    parser = _Links()
    parser.feed(html)
    assert "max-width:600px" in html and 'width="600"' in html
    assert "img" not in parser.tags  # reads the same with images off
    assert "style" not in parser.tags and "script" not in parser.tags  # inline CSS only
    assert '<meta name="color-scheme" content="light dark">' in html
    # Every element that sets a text colour sits in a cell that sets a background colour.
    assert html.count("background-color:#ffffff") >= 4
    assert "Harbour city closes its tidal barrier" in html
    assert 'href="https://coastal-herald.example/news/barrier-shut?utm_source=rss&amp;id=7"' in html


# --- Markdown and text --------------------------------------------------------------------------


def test_markdown_escapes_feed_text() -> None:
    md = render.render_markdown(hostile_digest())
    assert "<" not in md.replace("\\<", "")  # every angle bracket is escaped
    assert not re.search(r"(?<!\\)\]\((javascript|data):", md)  # escaped text is fine
    # The safe link is percent-encoded so it cannot end the Markdown link early.
    assert "(https://good.example/a?x=%3Cb%3E&y=%7Cpipe%7C)" in md
    assert "\\*now\\*" in md


def test_text_wraps_at_76_columns_except_urls() -> None:
    text = render.render_text(daily_digest())
    for line in text.splitlines():
        assert len(line) <= 76 or "://" in line, line
    assert "[Update] Regional rail strike called off" in text
    assert "Deep Look" in text


def test_every_format_drops_cr_lf_from_titles() -> None:
    d = hostile_digest()
    for out in (render.render_text(d), render.render_markdown(d), render.render_html(d)):
        assert "\r" not in out
        assert not re.search(r"^Bcc:", out, re.M)


# --- subject ------------------------------------------------------------------------------------


def test_subject_from_the_default_template() -> None:
    template = "{{ digest.name | title }} digest: {{ digest.stories | length }} stories"
    assert render.render_subject(template, daily_digest()) == "World digest: 3 stories"


def test_subject_template_variables() -> None:
    template = "{{ title }}, {{ date }}: {{ count_label }} ({{ count }})"
    subject = render.render_subject(template, daily_digest())
    assert subject.startswith("World digest, ") and subject.endswith(": 3 stories (3)")


def test_alert_subject_is_the_story_headline_whatever_the_template() -> None:
    d = alert_digest()
    subject = render.render_subject("{{ title }}: {{ count_label }}", d)
    assert subject == f"Alert: world: {d.stories[0].quick_looks.headline}"


def test_subject_cannot_carry_a_header() -> None:
    subject = render.render_subject(
        "{{ digest.stories[0].quick_looks.headline }}", hostile_digest()
    )
    assert "\r" not in subject and "\n" not in subject
    assert len(subject) <= render.SUBJECT_MAX_CHARS


def test_subject_is_capped() -> None:
    subject = render.render_subject("{{ 'word ' * 100 }}", daily_digest())
    assert len(subject) <= 150 and subject.endswith("…")


def test_subject_template_error_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="subject template"):
        render.render_subject("{{ digest.nope.deeper }}", daily_digest())


# --- Slack --------------------------------------------------------------------------------------


def test_slack_escape() -> None:
    assert render.slack_escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


@given(st.text())
def test_slack_escape_leaves_no_markup(text: str) -> None:
    escaped = render.slack_escape(text)
    assert "<" not in escaped and ">" not in escaped
    unescaped = escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == text


def test_slack_link_only_for_http() -> None:
    assert render.slack_link("javascript:alert(1)", "x") == "x"
    assert render.slack_link("data:text/html,hi", "<b>") == "&lt;b&gt;"
    assert render.slack_link("https://a.example/p?q=1&r=<2>|3", "A|B") == (
        "<https://a.example/p?q=1&amp;r=%3C2%3E%7C3|A¦B>"
    )


# Everything in `<...>` inside Slack text must be one of our own http(s) links.
_ANGLE = re.compile(r"<([^<>]*)>")
_OUR_LINK = re.compile(r"^https?://[^\s|<>]+\|[^<>]*$")


def slack_texts(node: object) -> list[str]:
    if isinstance(node, dict):
        return [
            t
            for k, v in node.items()
            for t in ([v] if k == "text" and isinstance(v, str) else slack_texts(v))
        ]
    if isinstance(node, list):
        return [t for item in node for t in slack_texts(item)]
    return []


def assert_slack_safe(messages: list[render.SlackMessage]) -> None:
    for m in messages:
        for text in [m.text, *slack_texts(m.blocks)]:
            for inner in _ANGLE.findall(text):
                assert _OUR_LINK.match(inner), f"unexpected markup <{inner}> in {text!r}"
            assert "javascript:" not in text and "data:text" not in text


def test_slack_hostile_text_cannot_ping_or_link() -> None:
    messages = render.render_slack(hostile_digest())
    assert_slack_safe(messages)
    blob = json.dumps([m.blocks for m in messages])
    assert "&lt;!channel&gt;" in blob and "&lt;@U123&gt;" in blob
    assert "<https://good.example/a?x=%3Cb%3E&amp;y=%7Cpipe%7C|Good &amp; Proper>" in blob
    for m in messages:
        assert message_error(m.text, m.blocks) is None


@settings(max_examples=60, deadline=None)
@given(
    headline=st.text(min_size=0, max_size=400),
    label=st.text(max_size=50),
    text=st.text(max_size=4000),
    url=st.text(max_size=60),
)
def test_slack_any_text_stays_valid_and_safe(
    headline: str, label: str, text: str, url: str
) -> None:
    d = Digest(
        name="x",
        generated_at=NOW,
        stories=(
            story(
                "s", headline, (article("k", label or "o", headline, url),), (Bullet(label, text),)
            ),
        ),
    )
    messages = render.render_slack(d)
    assert_slack_safe(messages)
    for m in messages:
        assert message_error(m.text, m.blocks) is None
    assert [sid for m in messages for sid in m.story_ids] == ["s"]


def big_digest(n: int = 60, bullet_chars: int = 700) -> Digest:
    stories = []
    for i in range(n):
        words = ("lorem & ipsum <dolor> " * (bullet_chars // 20))[:bullet_chars]
        stories.append(
            story(
                f"s{i:02d}",
                f"Story number {i} with a fairly long headline about events in a place",
                tuple(
                    article(
                        f"k{i}-{j}",
                        f"Outlet {j}",
                        f"Title {i}-{j}",
                        f"https://outlet{j}.example/{i}/{'x' * 80}",
                    )
                    for j in range(12)
                ),
                tuple(Bullet(f"Point {b}", words) for b in range(5)),
            )
        )
    return Digest(name="world", generated_at=NOW, stories=tuple(stories))


def test_slack_splits_big_digest_between_stories() -> None:
    d = big_digest()
    messages = render.render_slack(d)
    assert len(messages) > 3
    ids = [sid for m in messages for sid in m.story_ids]
    assert ids == [f"s{i:02d}" for i in range(60)]  # each story exactly once, in order
    for i, m in enumerate(messages, start=1):
        assert block_kit_errors(m.blocks) == []
        assert len(m.blocks) <= 50
        assert blocks_text_length(m.blocks) <= render.SLACK_BLOCKS_TEXT_BUDGET
        assert len(m.text) <= 3000
        assert m.story_ids  # no message without a story
        if i > 1:
            assert f"part {i} of {len(messages)}" in m.blocks[0]["elements"][0]["text"]
        # A story's blocks never straddle two messages: each story's headline is in its message.
        for sid in m.story_ids:
            n = int(sid[1:])
            assert any(f"Story number {n} with" in t for t in slack_texts(m.blocks))
    assert messages[0].blocks[0]["type"] == "header"


def test_slack_many_short_stories_respect_the_block_limit() -> None:
    d = Digest(
        name="world",
        generated_at=NOW,
        stories=tuple(
            story(
                f"s{i}",
                f"Short {i}",
                (article(f"k{i}", "O", "t", "https://o.example"),),
                (Bullet("", "x"),),
            )
            for i in range(200)
        ),
    )
    messages = render.render_slack(d)
    assert all(len(m.blocks) <= 50 for m in messages)
    assert sum(len(m.story_ids) for m in messages) == 200
    assert all(block_kit_errors(m.blocks) == [] for m in messages)


def test_slack_one_monster_story_still_fits_one_message() -> None:
    monster = story(
        "big",
        "&" * 1000,
        tuple(
            article(f"k{j}", "&" * 200, "t", f"https://o{j}.example/" + "&" * 900)
            for j in range(40)
        ),
        tuple(Bullet("&" * 300, "&<>" * 1500) for _ in range(10)),
    )
    messages = render.render_slack(Digest(name="w", generated_at=NOW, stories=(monster,)))
    assert len(messages) == 1
    assert message_error(messages[0].text, messages[0].blocks) is None
    assert blocks_text_length(messages[0].blocks) <= render.SLACK_BLOCKS_TEXT_BUDGET


def test_slack_empty_digest_is_one_message_without_stories() -> None:
    [message] = render.render_slack(empty_digest())
    assert message.story_ids == ()
    assert "No new stories" in json.dumps(message.blocks)
    assert message_error(message.text, message.blocks) is None


# --- templates folder ---------------------------------------------------------------------------


def test_templates_dir_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("digest.html.j2", "digest.md.j2", "digest.txt.j2"):
        (tmp_path / name).write_text(f"{name}: {{{{ d.title }}}} {{{{ d.count_label }}}}\n")
    monkeypatch.setenv("DIGEST_TEMPLATES_DIR", str(tmp_path))
    assert render.templates_dir() == tmp_path
    assert render.render_text(daily_digest()) == "digest.txt.j2: World digest 3 stories\n"
    assert render.render_html(empty_digest()).startswith("digest.html.j2: Tech-news digest")


def test_templates_dir_env_must_hold_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_TEMPLATES_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="DIGEST_TEMPLATES_DIR"):
        render.render_text(daily_digest())


def test_templates_dir_defaults_to_the_source_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGEST_TEMPLATES_DIR", raising=False)
    assert render.templates_dir() == Path(__file__).resolve().parents[1] / "templates"


def test_html_for_a_full_digest_stays_under_gmails_clipping_size() -> None:
    # Gmail hides everything after about 102 KB behind "[Message clipped]".
    d = daily_digest()
    barrier = d.stories[0]
    twenty = tuple(replace(barrier, story=replace(barrier.story, id=f"s{i}")) for i in range(20))
    html = render.render_html(replace(d, stories=twenty))
    assert len(html.encode("utf-8")) < 100_000


def test_templates_dir_finds_a_wheel_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    import digest

    installed = tmp_path / "prefix" / "share" / "digest" / "templates"
    installed.mkdir(parents=True)
    for name in ("digest.html.j2", "digest.md.j2", "digest.txt.j2"):
        (installed / name).write_text("installed {{ d.title }}\n")
    # As if the package lived in site-packages, with no templates/ folder beside it.
    monkeypatch.delenv("DIGEST_TEMPLATES_DIR", raising=False)
    monkeypatch.setattr(digest, "__file__", str(tmp_path / "site" / "digest" / "__init__.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    assert render.templates_dir() == installed
    assert render.render_text(daily_digest()) == "installed World digest\n"


# --- huge fields --------------------------------------------------------------------------------


def test_a_100_kb_title_label_and_bullet_are_capped_in_every_format() -> None:
    """A feed can send any length: every renderer shows the first few hundred characters."""
    from digest.config import SmtpSettings
    from digest.deliver.email import EmailNotifier

    huge = "Wordy " * 17_000  # ~100 KB
    ds = story(
        "story-huge",
        huge,
        (article("h1", "Huge " * 1000, huge, "https://huge.example/a"),),
        (Bullet(huge, huge), Bullet("Short", "A normal bullet stays whole.")),
        deep_look=huge,
    )
    digest = Digest(name="world", generated_at=NOW, stories=(ds,), notes=(huge,))
    outputs = {
        "text": render.render_text(digest),
        "markdown": render.render_markdown(digest),
        "html": render.render_html(digest),
        "json": json.dumps(render.render_json(digest)),
        "slack": json.dumps(render.slack_payloads(render.render_slack(digest))),
    }
    for name, out in outputs.items():
        assert len(out) < 20_000, f"{name}: {len(out)} characters"
        assert "A normal bullet stays whole." in out, name
    smtp = SmtpSettings(host="127.0.0.1", port=25, security="none", **{"from": "d@x.example"})
    email = EmailNotifier(smtp, ["a@x.example"], "{title}").renderer.build_message(digest)
    assert len(email.as_bytes()) < 40_000

"""The digest HTML as a real browser sees it: headless Chromium loads the email HTML part and the
local HTML file, and a probe script reads back what the browser made of them.

The probe is injected into a *copy* of the rendered HTML (never into the renderer) at the end of
<body>. It writes its measurements as JSON into <pre id="probe">, which `--dump-dom` prints.
Headless Chromium will not make a window narrower than 500 px, so each width is a viewport of
exactly that size: an <iframe> of W x H in a wrapper page, with the probe inside reporting to the
wrapper by postMessage. `--virtual-time-budget` lets the page load and the scripts run before
the dump.

Skipped when /usr/bin/chromium is missing (Debian: `apt-get install chromium`; .ci/run does it).
"""

from __future__ import annotations

import html as html_module
import io
import json
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from digest.config import SmtpSettings
from digest.deliver import send_digest
from digest.deliver.email import EmailNotifier
from digest.deliver.local import LocalNotifier
from digest.models import Article, Bullet, Digest, DigestStory, QuickLooks, Story
from digest.render import digest_view

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless browser checks need Debian's Chromium at /usr/bin/chromium "
    "(apt-get install chromium)",
)

NOW = datetime(2025, 3, 14, 7, 0, tzinfo=UTC)
PWN_TITLE = '<script>window.__pwned=1</script> & <img src=x onerror="window.__pwned=2">'
LONG_WORD = ("Rindfleischetikettierungsueberwachungsaufgabenuebertragungsgesetz" * 4)[:200]
NON_LATIN_HEADLINE = "東京で大雪、交通に乱れ — Снегопад в Токио — تساقط الثلوج في طوكيو"
CHANNEL_BULLET = "<!channel> everyone: the council meets at noon"


# --- the digest ----------------------------------------------------------------------------------


def _article(key: str, outlet: str, url: str | None, hours_ago: float = 2) -> Article:
    return Article(
        key=key,
        feed_url=f"https://{key}.example/rss",
        url=url,
        title=f"Article {key}",
        text="Body text is not rendered.",
        outlet=outlet,
        content_hash=f"hash-{key}",
        published=NOW - timedelta(hours=hours_ago),
    )


def _story(
    sid: str,
    headline: str,
    articles: tuple[Article, ...],
    bullets: tuple[Bullet, ...],
    deep_look: str | None = None,
) -> DigestStory:
    s = Story(
        id=sid,
        headline=headline,
        articles=articles,
        first_seen=NOW - timedelta(hours=5),
        last_updated=NOW - timedelta(hours=1),
    )
    ql = QuickLooks(headline=headline, bullets=bullets, model="extractive", deep_look=deep_look)
    return DigestStory(s, ql)


def browser_digest() -> Digest:
    hostile = _story(
        "story-hostile",
        PWN_TITLE,
        (
            _article("h1", "Evil Outlet", "javascript:alert(1)"),
            _article("h2", "Good & Proper", "https://good.example/a?x=1&y=2"),
        ),
        (
            Bullet("Mention", CHANNEL_BULLET),
            Bullet("Long word", f"Before {LONG_WORD} after."),
            Bullet("", 'Handler <b onmouseover="window.__pwned=3">bold</b> stays text.'),
        ),
        deep_look=f"A paragraph holding {LONG_WORD} too.",
    )
    barrier = _story(
        "story-barrier",
        "Harbour city closes its tidal barrier as storm surge nears",
        (
            _article("b1", "Coastal Herald", "https://coastal-herald.example/barrier", 3),
            _article("b2", "Northern Wire", "https://northernwire.example/surge", 2.5),
            _article("b3", "Bay Radio", "http://bayradio.example/flood-gates", 1.5),
        ),
        (
            Bullet("Barrier closed", "Engineers lowered all six gates before high tide."),
            Bullet("Surge forecast", "Water may reach 1.9 metres above normal overnight."),
            Bullet("Ferries halted", "Cross-bay ferries stay in port until Saturday."),
        ),
        deep_look="The barrier has been closed fourteen times in eleven years.",
    )
    snow = _story(
        "story-snow",
        NON_LATIN_HEADLINE,
        (
            _article("s1", "東京新聞", "https://tokyo.example/snow"),
            _article("s2", "Вести", "https://vesti.example/snow"),
            _article("s3", "الجزيرة", "https://aljazeera.example/snow"),
        ),
        (
            Bullet("交通", "首都圏の電車は大幅に遅れている。"),
            Bullet("Аэропорт", "Рейсы задерживаются до вечера."),
            Bullet("", "أغلقت المدارس أبوابها اليوم."),
        ),
    )
    rail = _story(
        "story-rail",
        "Regional rail strike called off after late pay offer",
        (
            _article("r1", "Northern Wire", "https://northernwire.example/rail", 1),
            _article("r2", "Sky Notes", None, 1),
        ),
        (Bullet("Deal reached", "Union members vote next week on a two-year offer."),),
    )
    return Digest(
        name="world",
        generated_at=NOW,
        stories=(hostile, barrier, snow, rail),
        notes=("feed https://down.example/rss: timed out after 20s",),
    )


def expected_headlines(d: Digest) -> list[str]:
    return [ds.quick_looks.headline for ds in d.stories]


def expected_bullets(d: Digest) -> list[str]:
    return [
        f"{b.label}: {b.text}" if b.label else b.text
        for ds in d.stories
        for b in ds.quick_looks.bullets
    ]


# --- the two HTML files a reader opens -----------------------------------------------------------


def email_html(d: Digest) -> str:
    smtp = SmtpSettings(host="smtp.example", from_="Digest <digest@example.com>")
    msg = EmailNotifier(smtp, ["team@example.com"], "{{ title }}").renderer.build_message(d)
    [part] = [p for p in msg.iter_parts() if p.get_content_type() == "text/html"]
    return str(part.get_content())


def local_html_file(d: Digest, folder: Path) -> Path:
    refs: list[str] = []
    send_digest(LocalNotifier(folder, stream=io.StringIO()), d, lambda ids, ref: refs.append(ref))
    [ref] = refs
    return Path(ref)


# --- the browser ---------------------------------------------------------------------------------

# Runs after load: measures the page and reports JSON into <pre id="probe"> and to the parent.
PROBE_JS = r"""
<script id="probe-script">
addEventListener("load", function () {
  function rgba(s) {
    var m = s.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 1];
    var p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  function lum(c) {
    var v = c.slice(0, 3).map(function (x) {
      x /= 255;
      return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  function background(el) {
    for (; el; el = el.parentElement) {
      var c = rgba(getComputedStyle(el).backgroundColor);
      if (c[3] > 0) return c;
    }
    var dark = matchMedia("(prefers-color-scheme: dark)").matches;
    return dark ? [18, 18, 18, 1] : [255, 255, 255, 1];
  }
  function opacity(el) {
    var o = 1;
    for (; el; el = el.parentElement) o *= parseFloat(getComputedStyle(el).opacity);
    return o;
  }
  var probe = document.getElementById("probe-script");
  var card = document.querySelector('table[width="600"]');
  var cardRect = card.getBoundingClientRect();
  var preheader = document.body.firstElementChild;
  var texts = [];
  var overflowing = [];
  document.body.querySelectorAll("*").forEach(function (el) {
    if (el === probe || el.tagName === "SCRIPT") return;
    var own = Array.prototype.filter.call(el.childNodes, function (n) {
      return n.nodeType === 3 && n.textContent.trim();
    }).map(function (n) { return n.textContent; }).join("").trim();
    var r = el.getBoundingClientRect();
    if (card.contains(el) && el !== card && r.width > 0 &&
        (r.left < cardRect.left - 1 || r.right > cardRect.right + 1 ||
         (getComputedStyle(el).display !== "inline" && el.scrollWidth > el.clientWidth + 1))) {
      overflowing.push({tag: el.tagName, text: el.textContent.slice(0, 60),
                        right: r.right, scroll: el.scrollWidth, client: el.clientWidth});
    }
    if (!own) return;
    var cs = getComputedStyle(el);
    var fg = rgba(cs.color), bg = background(el);
    var l1 = lum(fg), l2 = lum(bg);
    var contrast = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    var why = [];
    if (!el.getClientRects().length) why.push("no box");
    if (cs.visibility !== "visible") why.push("visibility " + cs.visibility);
    if (opacity(el) < 0.1) why.push("opacity");
    if (parseFloat(cs.fontSize) < 6) why.push("font-size " + cs.fontSize);
    if (fg[3] < 0.1) why.push("transparent colour");
    if (contrast < 4.5) why.push("contrast " + contrast.toFixed(2));
    texts.push({tag: el.tagName, text: own.slice(0, 80), contrast: contrast,
                hidden: why, preheader: preheader.contains(el)});
  });
  // Each story's meta line ("outlets · time"): where every character is drawn, in text order.
  var metaLines = Array.prototype.map.call(document.querySelectorAll("h2"), function (h) {
    var chars = [];
    var walk = document.createTreeWalker(h.nextElementSibling, NodeFilter.SHOW_TEXT);
    for (var n = walk.nextNode(); n; n = walk.nextNode()) {
      for (var i = 0; i < n.length; i++) {
        var range = document.createRange();
        range.setStart(n, i);
        range.setEnd(n, i + 1);
        var cr = range.getBoundingClientRect();
        chars.push([n.data[i], cr.left, cr.right, cr.top]);
      }
    }
    return chars;
  });
  var de = document.documentElement;
  var result = {
    pwned: typeof window.__pwned === "undefined" ? null : String(window.__pwned),
    viewport: innerWidth,
    clientWidth: de.clientWidth,
    scrollWidth: de.scrollWidth,
    cardWidth: cardRect.width,
    cardRight: cardRect.right,
    dark: matchMedia("(prefers-color-scheme: dark)").matches,
    hrefs: Array.prototype.map.call(document.querySelectorAll("a[href]"),
                                    function (a) { return a.getAttribute("href"); }),
    scripts: document.scripts.length - 1,
    images: document.images.length,
    handlers: Array.prototype.filter.call(document.querySelectorAll("*"), function (el) {
      return Array.prototype.some.call(el.attributes, function (a) { return /^on/i.test(a.name); });
    }).length,
    headlines: Array.prototype.map.call(document.querySelectorAll("h2"),
                                        function (h) { return h.textContent; }),
    bullets: Array.prototype.map.call(document.querySelectorAll("li"),
                                      function (li) { return li.textContent; }),
    bodyText: document.body.innerText,
    texts: texts,
    metaLines: metaLines,
    overflowing: overflowing
  };
  var json = JSON.stringify(result);
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = json;
  document.body.appendChild(pre);
  if (parent !== window) parent.postMessage(json, "*");
});
</script>
"""

WRAPPER = """<!DOCTYPE html>
<html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe src="{src}" width="{width}" height="{height}" style="border:0;display:block"></iframe>
<pre id="probe"></pre>
<script>addEventListener("message", function (e) {{
  document.getElementById("probe").textContent = e.data; }});</script>
</body></html>
"""


def chromium(*args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="digest-chromium-") as profile:
        done = subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                *args,
            ],
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def probed_copy(html: str, folder: Path, name: str) -> Path:
    """A copy of the HTML with the probe script at the end of <body> (the original is untouched)."""
    head, sep, tail = html.rpartition("</body>")
    assert sep, "no </body> in the rendered HTML"
    path = folder / name
    path.write_text(head + PROBE_JS + sep + tail, encoding="utf-8")
    return path


@dataclass(frozen=True)
class Probe:
    width: int
    data: dict[str, Any]


def probe(page: Path, width: int, height: int = 800, *extra: str) -> Probe:
    """Load `page` in a `width` x `height` viewport and return the probe's measurements."""
    wrapper = page.with_name(f"wrapper-{width}-{page.name}")
    wrapper.write_text(WRAPPER.format(src=page.name, width=width, height=height), encoding="utf-8")
    dom = chromium(
        f"--window-size={max(width, 500) + 40},{height + 200}",
        "--virtual-time-budget=2000",
        *extra,
        "--dump-dom",
        wrapper.as_uri(),
    )
    start = dom.index('<pre id="probe">') + len('<pre id="probe">')
    raw = dom[start : dom.index("</pre>", start)]
    assert raw, f"the probe did not report: {dom[-500:]}"
    return Probe(width, json.loads(html_module.unescape(raw)))


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digest_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The local HTML file as LocalNotifier writes it, and the email's HTML part, as files."""
    folder = tmp_path_factory.mktemp("browser")
    d = browser_digest()
    local = local_html_file(d, folder / "out")
    email = folder / "email.html"
    email.write_text(email_html(d), encoding="utf-8")
    return {"local": local, "email": email}


@pytest.fixture(scope="module")
def probes(digest_files: dict[str, Path]) -> dict[tuple[str, int], Probe]:
    out = {}
    for source, path in digest_files.items():
        copy = probed_copy(path.read_text(encoding="utf-8"), path.parent, f"probed-{source}.html")
        for width in (1280, 375):
            out[(source, width)] = probe(copy, width)
    return out


SOURCES = ("local", "email")


# --- the checks ----------------------------------------------------------------------------------


def test_email_part_and_local_file_are_the_same_html(digest_files: dict[str, Path]) -> None:
    local = digest_files["local"].read_text(encoding="utf-8")
    assert local == digest_files["email"].read_text(encoding="utf-8")
    assert PWN_TITLE not in local and "onerror" in local  # present only as escaped text


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("width", (1280, 375))
def test_no_injected_script_or_handler_runs(
    probes: dict[tuple[str, int], Probe], source: str, width: int
) -> None:
    p = probes[(source, width)].data
    assert p["viewport"] == width
    assert p["pwned"] is None
    assert p["scripts"] == 0 and p["images"] == 0 and p["handlers"] == 0


@pytest.mark.parametrize("source", SOURCES)
def test_every_link_is_http(probes: dict[tuple[str, int], Probe], source: str) -> None:
    hrefs = probes[(source, 1280)].data["hrefs"]
    assert hrefs, "the safe links should still be links"
    assert all(h.startswith(("https://", "http://")) for h in hrefs), hrefs
    assert not any("javascript" in h.lower() for h in hrefs)
    # The hostile story's headline links to its first *safe* article; Evil Outlet is text.
    assert hrefs[0] == "https://good.example/a?x=1&y=2"
    assert "Evil Outlet" in probes[(source, 1280)].data["bodyText"]


@pytest.mark.parametrize("source", SOURCES)
def test_content_column_is_about_600px_on_desktop(
    probes: dict[tuple[str, int], Probe], source: str
) -> None:
    p = probes[(source, 1280)].data
    assert 560 <= p["cardWidth"] <= 660, p["cardWidth"]
    assert p["scrollWidth"] <= 1280
    assert p["overflowing"] == [], p["overflowing"]


@pytest.mark.parametrize("source", SOURCES)
def test_no_horizontal_scroll_on_a_phone(probes: dict[tuple[str, int], Probe], source: str) -> None:
    p = probes[(source, 375)].data
    assert p["scrollWidth"] <= 375 + 2, (p["scrollWidth"], p["cardWidth"])
    assert p["cardRight"] <= 375 + 2
    assert p["overflowing"] == [], p["overflowing"]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("width", (1280, 375))
def test_hostile_text_is_shown_as_text(
    probes: dict[tuple[str, int], Probe], source: str, width: int
) -> None:
    p = probes[(source, width)].data
    assert p["headlines"][0] == PWN_TITLE
    text = p["bodyText"]
    assert PWN_TITLE in text
    assert CHANNEL_BULLET in text
    assert LONG_WORD in text
    assert NON_LATIN_HEADLINE in text and "أغلقت المدارس أبوابها اليوم." in text
    [title] = [t for t in p["texts"] if t["tag"] == "A" and t["text"].startswith("<script>")]
    assert title["hidden"] == [], title


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("width", (1280, 375))
def test_no_text_is_invisible(
    probes: dict[tuple[str, int], Probe], source: str, width: int
) -> None:
    """Only the preheader (the inbox preview line) is meant to be hidden; all else is readable."""
    texts = probes[(source, width)].data["texts"]
    assert any(t["preheader"] and t["hidden"] for t in texts)
    bad = [t for t in texts if t["hidden"] and not t["preheader"]]
    assert bad == [], bad


def test_no_text_is_invisible_in_dark_mode(digest_files: dict[str, Path]) -> None:
    path = digest_files["local"]
    copy = probed_copy(path.read_text(encoding="utf-8"), path.parent, "probed-dark.html")
    p = probe(copy, 1280, 800, "--force-dark-mode").data
    assert p["dark"] is True
    bad = [t for t in p["texts"] if t["hidden"] and not t["preheader"]]
    assert bad == [], bad


@pytest.mark.parametrize("source", SOURCES)
def test_headlines_and_bullets_in_order(probes: dict[tuple[str, int], Probe], source: str) -> None:
    d = browser_digest()
    p = probes[(source, 1280)].data
    assert p["headlines"] == expected_headlines(d)
    assert p["bullets"] == expected_bullets(d)


@pytest.mark.parametrize("source", SOURCES)
def test_time_stays_after_the_outlets(probes: dict[tuple[str, int], Probe], source: str) -> None:
    """An Arabic outlet name must not pull the time's digits into its right-to-left run."""
    d = browser_digest()
    lines = probes[(source, 1280)].data["metaLines"]
    views = digest_view(d).stories
    assert len(lines) == len(views)
    for sv, chars in zip(views, lines, strict=True):
        text = "".join(c for c, *_ in chars)
        stamp = sv.stamp  # "14 Mar, 05:00 UTC"
        assert text.endswith(" · " + stamp), text
        assert len({round(top) for *_, top in chars}) == 1, f"{text!r} wraps at 1280 px"
        head, tail = chars[: -len(stamp)], chars[-len(stamp) :]
        xs = [left for _, left, _, _ in tail]
        assert xs == sorted(xs), f"{text!r}: the time is drawn out of order"
        assert min(xs) >= max(right for _, _, right, _ in head) - 0.5, (
            f"{text!r}: part of the time is drawn among the outlets"
        )


def test_screenshot(digest_files: dict[str, Path], tmp_path: Path) -> None:
    shot = tmp_path / "digest.png"
    chromium(
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        "--virtual-time-budget=2000",
        digest_files["local"].as_uri(),
    )
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2000)

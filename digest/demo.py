"""`digest demo`: serve bundled sample feeds and pages on 127.0.0.1 and run the pipeline on them.

The sample news (digest/demo_data/articles.json) is fictional and written for this project: three
events each told by two outlets in different words, plus two stories told once. Feeds come in
three formats (RSS 2.0, Atom, JSON Feed 1.1) and carry teasers only, so article pages are
fetched and extracted just as they would be from real outlets.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from .app import build_app
from .config import parse_config
from .models import Digest
from .pipeline import run_digest

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | {outlet}</title>
<meta property="og:site_name" content="{outlet}">
<meta property="og:title" content="{title}">
<meta name="author" content="{author}">
<meta property="article:published_time" content="{published}">
<link rel="canonical" href="{url}">
</head><body>
<div class="cookie-banner">We use cookies to improve your experience.
<a href="#">Accept all</a></div>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a>
<a href="/weather">Weather</a> <a href="/subscribe">Subscribe</a></nav></header>
<main><article>
<h1>{title}</h1>
<p class="byline">By {author}</p>
{body}
</article>
<aside><h2>Most read</h2><ul><li><a href="/a">Tide tables for the week ahead</a></li>
<li><a href="/b">Five cafés worth the walk</a></li>
<li><a href="/c">Letters to the editor</a></li></ul>
</aside></main>
<footer><p>&copy; {outlet}. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>
"""


def load_sample() -> dict[str, Any]:
    """The bundled sample outlets and articles."""
    text = resources.files("digest").joinpath("demo_data/articles.json").read_text("utf-8")
    return json.loads(text)


def build_site(base: str, now: datetime) -> dict[str, tuple[str, bytes]]:
    """Every path the demo server answers: path -> (content type, body)."""
    sample = load_sample()
    site: dict[str, tuple[str, bytes]] = {}
    by_outlet: dict[str, list[dict[str, Any]]] = {}
    for a in sample["articles"]:
        published = now - timedelta(hours=a["hours_ago"])
        url = f"{base}/{a['outlet']}/{a['slug']}.html"
        entry = {**a, "url": url, "published": published}
        by_outlet.setdefault(a["outlet"], []).append(entry)
        outlet = sample["outlets"][a["outlet"]]["name"]
        body = "\n".join(f"<p>{html.escape(p)}</p>" for p in a["paragraphs"])
        page = PAGE.format(
            title=html.escape(a["title"]),
            outlet=html.escape(outlet),
            author=html.escape(a["author"]),
            published=published.isoformat(),
            url=url,
            body=body,
        )
        site[f"/{a['outlet']}/{a['slug']}.html"] = ("text/html; charset=utf-8", page.encode())
    for key, outlet in sample["outlets"].items():
        entries = by_outlet.get(key, [])
        feed_path, feed_type, feed_body = _feed(key, outlet, entries, base)
        site[feed_path] = (feed_type, feed_body)
    return site


def _feed(
    key: str, outlet: dict[str, str], entries: list[dict[str, Any]], base: str
) -> tuple[str, str, bytes]:
    name = html.escape(outlet["name"])
    if outlet["kind"] == "json":
        doc = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": outlet["name"],
            "home_page_url": f"{base}/{key}/",
            "feed_url": f"{base}/{key}/feed.json",
            "items": [
                {
                    "id": e["url"],
                    "url": e["url"],
                    "title": e["title"],
                    "summary": e["teaser"],
                    "content_text": e["teaser"],
                    "date_published": e["published"].isoformat(),
                    "authors": [{"name": e["author"]}],
                }
                for e in entries
            ],
        }
        return f"/{key}/feed.json", "application/feed+json", json.dumps(doc).encode()
    if outlet["kind"] == "atom":
        newest = max(e["published"] for e in entries)
        items = "".join(
            f"<entry><id>{e['url']}</id><title>{html.escape(e['title'])}</title>"
            f'<link rel="alternate" href="{e["url"]}"/>'
            f"<updated>{e['published'].isoformat()}</updated>"
            f"<author><name>{html.escape(e['author'])}</name></author>"
            f"<summary>{html.escape(e['teaser'])}</summary></entry>"
            for e in entries
        )
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<feed xmlns="http://www.w3.org/2005/Atom"><title>{name}</title>'
            f"<id>{base}/{key}/</id><updated>{newest.isoformat()}</updated>"
            f'<link href="{base}/{key}/"/>{items}</feed>'
        )
        return f"/{key}/atom.xml", "application/atom+xml", body.encode()
    items = "".join(
        f"<item><title>{html.escape(e['title'])}</title><link>{e['url']}</link>"
        f"<guid>{e['url']}</guid><pubDate>{format_datetime(e['published'])}</pubDate>"
        f"<description>{html.escape(e['teaser'])}</description></item>"
        for e in entries
    )
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title><link>{base}/{key}/</link>"
        f"<description>{name} news</description>{items}</channel></rss>"
    )
    return f"/{key}/rss.xml", "application/rss+xml", body.encode()


@contextlib.contextmanager
def serve_sample(now: datetime | None = None) -> Iterator[tuple[str, list[str]]]:
    """Serve the sample site on 127.0.0.1 (a free port); yields (base URL, feed URLs)."""
    site: dict[str, tuple[str, bytes]] = {}
    started = format_datetime(datetime.now(UTC).replace(microsecond=0), usegmt=True)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            found = site.get(self.path.split("?")[0])
            if found is None:
                self.send_error(404)
                return
            ctype, body = found
            # Validators like a real news site's, so a second run costs one 304 per feed.
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", started)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    site.update(build_site(base, now or datetime.now(UTC)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        feeds = sorted(base + p for p in site if p.endswith((".xml", ".json")))
        yield base, feeds
    finally:
        server.shutdown()
        server.server_close()


def run_demo(*, state_dir: Path | None = None, summarizer_backend: str = "model") -> Digest:
    """Run the whole pipeline (dry run) over the sample site; returns the digest."""
    with serve_sample() as (_, feeds), contextlib.ExitStack() as stack:
        directory = state_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        config = parse_config(
            {
                "state_dir": str(directory),
                "fetch": {"allow_private_addresses": True},
                "summarizer": {"backend": summarizer_backend},
                "digest": [
                    {"name": "demo", "max_stories": 10, "feeds": [{"url": u} for u in feeds]}
                ],
            },
            "<demo>",
        )
        app = build_app(config, state_dir=directory)
        try:
            return run_digest(app, config.digest[0], dry_run=True).digest
        finally:
            app.close()

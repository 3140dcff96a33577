"""A news site on 127.0.0.1 with one huge teaser feed: N items, each a link to its own page.

Used by tests/test_big_feed.py and bench/feed_items.py. Items are dated a minute apart, newest
first in the feed; pages carry a few paragraphs of made-up words, different for each item, so
no two articles are one story. The server logs every path it is asked for.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SYLLABLES = "ka lo mi ne ru ta vo shi pe da gu zo ri na te ba ko lu fe mo".split()


def _words(rng: random.Random, n: int) -> str:
    return " ".join(
        "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))) for _ in range(n)
    )


def feed_xml(n: int, base: str, now: datetime) -> bytes:
    """An RSS 2.0 feed of n teaser items, item 0 the newest."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Big wire</title><link>{base}/</link>"
    ]
    for i in range(n):
        rng = random.Random(i)
        when = format_datetime(now - timedelta(minutes=i + 1), usegmt=True)
        parts.append(
            f"<item><title>Item {i}: {_words(rng, 5)}</title><link>{base}/a/{i}</link>"
            f"<pubDate>{when}</pubDate><description>{_words(rng, 8)}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def page_html(i: int) -> bytes:
    rng = random.Random(10_000 + i)
    paragraphs = "".join(f"<p>{_words(rng, 60)}.</p>" for _ in range(5))
    return (
        f"<html><head><title>Item {i}</title></head><body><article><h1>Item {i}</h1>"
        f"{paragraphs}</article></body></html>"
    ).encode()


class BigSite:
    """The running site: `feed_url`, and `log`, the paths requested so far."""

    def __init__(self, n: int, now: datetime) -> None:
        self.n = n
        self.log: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                site.log.append(self.path)
                if self.path == "/feed.xml":
                    body, ctype = site.feed, "application/rss+xml"
                elif self.path.startswith("/a/") and self.path[3:].isdigit():
                    body, ctype = page_html(int(self.path[3:])), "text/html; charset=utf-8"
                else:
                    self.send_error(404)
                    return
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
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.feed = feed_xml(n, self.base, now)
        self.feed_url = f"{self.base}/feed.xml"

    def pages_fetched(self) -> list[int]:
        return [int(p[3:]) for p in self.log if p.startswith("/a/")]


@contextmanager
def big_site(n: int, now: datetime | None = None) -> Iterator[BigSite]:
    """Serve a BigSite of n items for the duration of the block."""
    site = BigSite(n, now or datetime.now(UTC))
    thread = threading.Thread(target=site.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.httpd.shutdown()
        site.httpd.server_close()

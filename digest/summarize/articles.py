"""Articles from the files and URLs `digest summarize` is given (the pipeline reads feeds)."""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..errors import DigestError, FetchError
from ..extract import content_hash, extract_page
from ..fetch import Fetcher, build_client
from ..models import Article
from ..urls import host_of, user_url_allows_private
from .text import blocks, ends_sentence, normalize, word_count


def _looks_like_title(line: str) -> bool:
    return 3 <= word_count(line) <= 25 and not ends_sentence(line)


def article_from_text(text: str, name: str) -> Article:
    """An Article from plain text: the first line is the title, the rest the body.

    A first line of one or two words followed by a headline-like line ("World", then the
    headline) is a section name, as in text copied from a news page; the headline is used.
    A long first line that reads like a paragraph stays in the body and the title is empty.
    """
    lines = [line for line in blocks(text)]
    title = lines[0] if lines else ""
    body_lines = lines[1:]
    if word_count(title) <= 2 and body_lines and _looks_like_title(body_lines[0]):
        title, body_lines = body_lines[0], body_lines[1:]
    elif title and ("/ " in title or ends_sentence(title)) and word_count(title) > 25:
        # Not a title but the lead paragraph (maybe behind a "topic/ topic/" chain): keep it.
        title, body_lines = "", lines
    body = "\n\n".join(body_lines)
    return Article(
        key=f"file:{name}",
        feed_url="",
        url=None,
        title=title,
        text=body,
        outlet=Path(name).stem,
        content_hash=content_hash(body),
    )


def article_from_html(html: bytes | str, name: str, url: str | None = None) -> Article:
    """An Article from an HTML page, extracted like the pipeline does."""
    page = extract_page(html, url)
    return Article(
        key=url or f"file:{name}",
        feed_url="",
        url=url,
        title=page.title or "",
        text=page.text,
        outlet=page.site_name or host_of(url) or Path(name).stem,
        content_hash=content_hash(page.text),
        author=page.author,
        published=page.published,
    )


def read_article(path: Path) -> Article:
    """An Article from an .html file, or a .txt file whose first line is the title."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DigestError(f"{path}: no such file", hint="pass a URL or a .html/.txt file") from None
    except OSError as e:
        raise DigestError(f"{path}: cannot read: {e.strerror}") from None
    if path.suffix.lower() in (".html", ".htm", ".xhtml"):
        return article_from_html(data, path.name)
    text = data.decode("utf-8", errors="replace")
    if text.lstrip()[:1] == "<" and "</" in text[:5000]:
        return article_from_html(data, path.name)  # HTML saved under another extension
    return article_from_text(normalize(text), path.name)


def fetch_articles(urls: list[str], config: Config) -> list[Article]:
    """Articles fetched from typed URLs and extracted like the pipeline does."""
    articles = []
    with build_client(config.fetch) as client:
        fetcher = Fetcher(client, config.fetch)
        for url in urls:
            # A typed URL is trusted like a configured feed (a loopback test server is fine).
            allow = user_url_allows_private(url, config.fetch.allow_private_addresses)
            result = fetcher.fetch(url, allow_private=allow)
            if not result.ok or result.content is None:
                raise FetchError(url, result.error or result.status)
            articles.append(article_from_html(result.content, url, result.final_url or url))
    return articles

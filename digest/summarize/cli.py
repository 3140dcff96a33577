"""`digest summarize URL|FILE...`: Quick Looks for one story told by one or more articles."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import click

from ..config import Config, load_config
from ..errors import DigestError, ExtractError, FetchError
from ..models import Article, QuickLooks
from . import build_summarizer, quicklooks_to_dict
from .text import blocks, ends_sentence, normalize, word_count

log = logging.getLogger(__name__)


def _looks_like_title(line: str) -> bool:
    return 3 <= word_count(line) <= 25 and not ends_sentence(line)


def article_from_text(text: str, name: str) -> Article:
    """An Article from plain text: the first line is the title, the rest the body.

    A first line of one or two words followed by a headline-like line ("World", then the
    headline) is a section name, as in text copied from a news page; the headline is used.
    A long first line that reads like a paragraph stays in the body and the title is empty.
    """
    from ..extract import content_hash

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
    from ..extract import content_hash, extract_page
    from ..urls import host_of

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


def _read_file(path: Path) -> Article:
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


def _fetch(urls: list[str], config: Config) -> list[Article]:
    from ..fetch import Fetcher, build_client
    from ..urls import user_url_allows_private

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


def render_markdown(q: QuickLooks, articles: list[Article]) -> str:
    """Quick Looks as Markdown: headline, bullets, Deep Look, and where it came from."""
    lines = [f"## {q.headline}", ""]
    lines += [f"- **{b.label}:** {b.text}" for b in q.bullets]
    if not q.bullets:
        lines.append("_No sentence in the source could be used as a bullet._")
    if q.deep_look:
        lines += ["", f"**Deep Look.** {q.deep_look}"]
    outlets = ", ".join(dict.fromkeys(a.outlet for a in articles))
    lines += ["", f"_Quick Looks by {q.model} from {len(articles)} source(s): {outlets}_"]
    return "\n".join(lines)


@click.command("summarize")
@click.argument("sources", nargs=-1, required=True, metavar="URL|FILE...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json"]),
    default="markdown",
    show_default=True,
    help=(
        "Output format. JSON has headline, bullets[] (label, text, sources[]), deep_look, model,"
        " url (the article the headline is from)."
    ),
)
@click.option("--model", default=None, help="Model: the packaged default, a HF id or a folder.")
@click.option(
    "--backend",
    type=click.Choice(["model", "extractive"]),
    default=None,
    help="extractive needs no model (rule-based labels).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the dequantised default model is cached (env DIGEST_MODEL_CACHE).",
)
@click.option(
    "--embed/--no-embed",
    default=True,
    show_default=True,
    help="Use the MiniLM sentence embedder to keep paraphrased facts out of the bullets.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Config file for [summarizer] and [fetch] settings (optional).",
)
def summarize_cmd(
    sources: tuple[str, ...],
    fmt: str,
    model: str | None,
    backend: str | None,
    cache_dir: Path | None,
    embed: bool,
    config_path: Path | None,
) -> None:
    """Summarise one story told by one or more articles (several files = several outlets).

    Each SOURCE is an http(s) URL (fetched and extracted), an .html file, or a .txt file whose
    first line is the title. Prints a headline and 3-5 `Label: sentence` bullets whose facts
    all come from the sources.
    """
    from ..app import model_cache_dir, state_dir_for

    config = load_config(config_path) if config_path else Config()
    settings = config.summarizer
    update: dict[str, Any] = {}
    if model:
        update["model"] = model
        update.setdefault("backend", "model")
    if backend:
        update["backend"] = backend
    if update:
        settings = settings.model_copy(update=update)
    cache = cache_dir or model_cache_dir(config, state_dir_for(config))

    urls = [s for s in sources if s.startswith(("http://", "https://"))]
    articles: list[Article] = []
    fetched = iter(_fetch(urls, config)) if urls else iter(())
    for source in sources:
        if source.startswith(("http://", "https://")):
            articles.append(next(fetched))
        else:
            articles.append(_read_file(Path(source)))
    if not any(a.text.strip() for a in articles):
        raise ExtractError("no article text in " + ", ".join(sources))

    embedder = None
    if embed:
        from ..embed import build_embedder

        embedder = build_embedder("minilm")  # loads on first use; a failure only costs the aid
    summarizer = build_summarizer(settings, cache, embedder=embedder)
    quick = summarizer.summarize([articles])[0]
    if fmt == "json":
        click.echo(json.dumps(quicklooks_to_dict(quick), ensure_ascii=False, indent=2))
    else:
        click.echo(render_markdown(quick, articles))

"""`digest extract`, `digest demo` and `digest compress`: one stage tried on its own, no state."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from ..demo import run_demo
from ..errors import DigestError
from ..extract import extract_page
from ..fetch import Fetcher, build_client
from ..summarize.compress_model import load_compressor
from ..urls import user_url_allows_private
from .common import FORMATS, render_digest, resolve_config, resolve_state_dir
from .options import config_option, state_dir_option


@click.command()
@click.argument("source")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: title, outlet line and body as read; json: url, title, text, author, "
    "published, outlet.",
)
@config_option
def extract(source: str, fmt: str, config_path: Path | None) -> None:
    """Show what the pipeline would extract from one page (URL or HTML file)."""
    config = resolve_config(config_path, required=False)
    if source.startswith(("http://", "https://")):
        with build_client(config.fetch) as client:
            # A URL typed by the user is trusted like a configured feed: loopback and intranet
            # hosts are fine; the private-address rule is for links found inside feeds.
            allow = user_url_allows_private(source, config.fetch.allow_private_addresses)
            result = Fetcher(client, config.fetch).fetch(source, allow_private=allow)
        if result.status != "ok" or result.content is None:
            raise DigestError(f"{source}: {result.error or 'no content'}")
        html: bytes = result.content
        url: str | None = result.final_url
    else:
        path = Path(source)
        try:
            html = path.read_bytes()
        except OSError as e:
            raise DigestError(f"{source}: cannot read file: {e.strerror}") from None
        url = None
    page = extract_page(html, url, favor_precision=config.extract.favor_precision)
    outlet = page.site_name or (url and _host(url)) or None
    if fmt == "json":
        data = {
            "url": page.canonical_url or url,
            "title": page.title,
            "text": page.text,
            "author": page.author,
            "published": page.published.isoformat() if page.published else None,
            "outlet": outlet,
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        if page.title:
            click.echo(page.title)
            click.echo("=" * min(len(page.title), 80))
        meta = [m for m in (outlet, page.author, page.published and page.published.date()) if m]
        if meta:
            click.echo(" · ".join(str(m) for m in meta))
        click.echo()
        click.echo(page.text)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


@click.command()
@state_dir_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True)
@click.option(
    "--summarizer",
    type=click.Choice(["model", "extractive"]),
    default="model",
    show_default=True,
    help="extractive needs no model and starts at once.",
)
@click.pass_context
def demo(ctx: click.Context, state_dir: Path | None, fmt: str, summarizer: str) -> None:
    """Serve bundled sample feeds on 127.0.0.1 and run the whole pipeline on them, offline."""
    digest_obj = run_demo(
        state_dir=resolve_state_dir(ctx, state_dir), summarizer_backend=summarizer
    )
    click.echo(render_digest(digest_obj, fmt))


@click.command()
@click.option(
    "--compressor",
    "kind",
    type=click.Choice(["auto", "minilm", "checked", "rules"]),
    default="auto",
    show_default=True,
    help="minilm: the shipped keep/delete classifier over MiniLM (the best F1); checked: "
    "minilm's output where it keeps the main clause's verb, subject, numbers and negations, "
    "else minilm at a lower threshold, else rules (what bullets use); rules: deletion rules, "
    "no model, instant; auto: minilm, else rules when torch or the weights are missing.",
)
@click.option(
    "--batch-size", type=click.IntRange(1), default=256, show_default=True, help="Lines a batch."
)
def compress(kind: str, batch_size: int) -> None:
    """Shorten sentences by deleting words: one sentence a line on stdin, one compression a line
    on stdout, in order (a blank line in gives a blank line out).

    Each output is made only of its input's own words, in their order. Input may be plain text
    or tokenised with spaces ("Smith 's dog , did n't bark .").
    """
    compressor = load_compressor(kind)
    stdin = sys.stdin
    batch: list[str] = []

    def flush() -> None:
        for line in compressor.compress(batch):
            click.echo(line)
        batch.clear()

    for line in stdin:
        batch.append(line.rstrip("\r\n"))
        if len(batch) >= batch_size:
            flush()
    flush()

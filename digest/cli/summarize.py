"""`digest summarize` and `digest prepare-model`: the summariser on its own, and its model cache."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from ..app import default_model_cache, model_cache_dir, state_dir_for
from ..config import Config, load_config
from ..embed import build_embedder
from ..errors import ExtractError
from ..models import Article, QuickLooks
from ..summarize import build_summarizer, quicklooks_to_dict
from ..summarize.articles import fetch_articles, read_article
from ..summarize.models import prepare_default_model


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
    fetched = iter(fetch_articles(urls, config)) if urls else iter(())
    for source in sources:
        if source.startswith(("http://", "https://")):
            articles.append(next(fetched))
        else:
            articles.append(read_article(Path(source)))
    if not any(a.text.strip() for a in articles):
        raise ExtractError("no article text in " + ", ".join(sources))

    embedder = None
    if embed:
        embedder = build_embedder("minilm")  # loads on first use; a failure only costs the aid
    summarizer = build_summarizer(settings, cache, embedder=embedder)
    quick = summarizer.summarize([articles])[0]
    if fmt == "json":
        click.echo(json.dumps(quicklooks_to_dict(quick), ensure_ascii=False, indent=2))
    else:
        click.echo(render_markdown(quick, articles))


@click.command("prepare-model")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to build it (default: env DIGEST_MODEL_CACHE, else ~/.cache/digest/models).",
)
def prepare_model_cmd(cache_dir: Path | None) -> None:
    """Build the packaged summariser model's dequantised cache once, and print its folder.

    The first summary on a machine does this by itself (about 40 s); a container image does it
    at build time instead, so that no container pays for it at start.
    """
    cache = cache_dir or Path(os.environ.get("DIGEST_MODEL_CACHE") or default_model_cache())
    click.echo(prepare_default_model(cache))

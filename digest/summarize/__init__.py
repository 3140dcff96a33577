"""Summarise a story into Quick Looks: a short headline and 3-5 grounded `Label: sentence` bullets.

The `Summarizer` port has two implementations: `ExtractiveSummarizer` (no model; the baseline
and the in-memory twin) and `ModelSummarizer` (a local transformers model writes the labels).
`build_summarizer` picks one from the config; `summary_cache_key` keys the pipeline's cache so
the same content is never summarised twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..config import SummarizerSettings
from ..errors import DigestError
from ..models import Article, Bullet, QuickLooks
from .models import DEFAULT_MODEL, prepare_default_model
from .quicklooks import ExtractiveSummarizer, ModelSummarizer
from .select import default_compressor
from .server import OpenAISummarizer

# Bump when the choice of sentences or labels changes, so cached summaries are redone.
ALGORITHM_VERSION = 6


@runtime_checkable
class Summarizer(Protocol):
    """Turns stories (each: its member articles) into one QuickLooks per story."""

    name: str  # model id recorded in QuickLooks.model and in the cache key

    def summarize(self, stories: Sequence[Sequence[Article]]) -> list[QuickLooks]:
        """One QuickLooks per story; never raises for bad text, only ModelError on loading."""
        ...


def build_summarizer(
    settings: SummarizerSettings,
    cache_dir: Path,
    *,
    embedder: Any = None,
    threads: int | None = None,
) -> Summarizer:
    """The summarizer the config asks for; a model is not loaded until it is first needed.

    `embedder` (optional, the App's digest.embed.Embedder) lets bullet selection see that two
    differently worded sentences state the same fact.
    """
    if settings.backend == "extractive":  # no model at all: the rules shorten its bullets
        return ExtractiveSummarizer(settings, embedder=embedder)
    # With a model backend, bullets are the MiniLM classifier's compressions where they pass
    # the checks (`select.default_compressor`), loaded on first use. The openai backend uses
    # the same one, so a digest through a server has the in-process digest's bullets (its
    # labels and rewrites are the server's). That loads MiniLM in-process (about 90 MB) even
    # when the embedder is a server's too.
    compressor = default_compressor()
    if settings.backend == "openai":  # an inference server, falling back to the local model
        return OpenAISummarizer(
            settings, cache_dir, embedder=embedder, threads=threads, compressor=compressor
        )
    return ModelSummarizer(
        settings, cache_dir, embedder=embedder, threads=threads, compressor=compressor
    )


def summary_cache_key(
    summarizer: Summarizer, articles: Sequence[Article], settings: SummarizerSettings
) -> str:
    """sha256 over the model, the settings that change a summary, and the articles' content."""
    payload = {
        "v": ALGORITHM_VERSION,
        "model": summarizer.name,
        "min_bullets": settings.min_bullets,
        "max_bullets": settings.max_bullets,
        "deep_look": settings.deep_look,
        "rewrite": settings.rewrite,
        # With sentence embeddings, paraphrased facts are kept apart: another choice of bullets.
        "embedder": getattr(getattr(summarizer, "embedder", None), "name", None),
        # The rules and the classifier shorten the same sentence differently.
        "compressor": getattr(getattr(summarizer, "compressor", None), "name", None),
        "content": sorted(a.content_hash for a in articles),
        # The headline comes from the titles, which the content hash does not cover.
        "titles": sorted(a.title for a in articles),
        # The headline links to the article it is taken from.
        "urls": sorted(a.url or "" for a in articles),
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def quicklooks_to_dict(q: QuickLooks) -> dict[str, Any]:
    """A QuickLooks as JSON-ready data (the cache and `--format json` use this shape)."""
    return {
        "headline": q.headline,
        "bullets": [
            {"label": b.label, "text": b.text, "sources": list(b.sources)} for b in q.bullets
        ],
        "deep_look": q.deep_look,
        "model": q.model,
        "url": q.url,
    }


def quicklooks_from_dict(d: dict[str, Any]) -> QuickLooks:
    """The QuickLooks that `quicklooks_to_dict` wrote; DigestError if the data is not one."""
    try:
        bullets = tuple(
            Bullet(
                label=str(b["label"]),
                text=str(b["text"]),
                sources=tuple(str(s) for s in b.get("sources", ())),
            )
            for b in d["bullets"]
        )
        deep = d.get("deep_look")
        return QuickLooks(
            headline=str(d["headline"]),
            bullets=bullets,
            model=str(d["model"]),
            deep_look=str(deep) if deep is not None else None,
            url=str(d["url"]) if d.get("url") is not None else None,
        )
    except (KeyError, TypeError, AttributeError) as e:
        raise DigestError(f"cached summary is not a Quick Looks record: {e!r}") from e


__all__ = [
    "ALGORITHM_VERSION",
    "DEFAULT_MODEL",
    "ExtractiveSummarizer",
    "ModelSummarizer",
    "OpenAISummarizer",
    "Summarizer",
    "build_summarizer",
    "prepare_default_model",
    "quicklooks_from_dict",
    "quicklooks_to_dict",
    "summary_cache_key",
]

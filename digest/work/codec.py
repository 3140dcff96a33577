"""The records that cross the queue, as JSON-ready data and back.

Messages and results are JSON (Dramatiq's default encoder), never pickle: whoever can write to
Redis must not be able to run code in a worker.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from ..extract import ExtractedPage
from ..models import Article


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def page_to_dict(page: ExtractedPage) -> dict[str, Any]:
    """An extracted page as data."""
    return {
        "title": page.title,
        "text": page.text,
        "author": page.author,
        "published": _when(page.published),
        "site_name": page.site_name,
        "canonical_url": page.canonical_url,
        "language": page.language,
    }


def page_from_dict(data: dict[str, Any]) -> ExtractedPage:
    """The page `page_to_dict` wrote."""
    return ExtractedPage(
        title=data["title"],
        text=data["text"],
        author=data["author"],
        published=_parse_when(data["published"]),
        site_name=data["site_name"],
        canonical_url=data["canonical_url"],
        language=data["language"],
    )


def article_to_dict(article: Article) -> dict[str, Any]:
    """An article as data."""
    return {
        "key": article.key,
        "feed_url": article.feed_url,
        "url": article.url,
        "title": article.title,
        "text": article.text,
        "outlet": article.outlet,
        "content_hash": article.content_hash,
        "author": article.author,
        "published": _when(article.published),
        "priority": article.priority,
        "from_feed_only": article.from_feed_only,
    }


def article_from_dict(data: dict[str, Any]) -> Article:
    """The article `article_to_dict` wrote."""
    return Article(**{**data, "published": _parse_when(data["published"])})


def vectors_to_data(vectors: np.ndarray) -> dict[str, Any]:
    """Rows of float32 as base64: a quarter of the size of a JSON list of floats."""
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    return {"shape": list(matrix.shape), "b64": base64.b64encode(matrix.tobytes()).decode()}


def vectors_from_data(data: dict[str, Any]) -> np.ndarray:
    """The matrix `vectors_to_data` wrote."""
    raw = base64.b64decode(data["b64"])
    return np.frombuffer(raw, dtype=np.float32).reshape(data["shape"]).copy()


def job_id(kind: str, payload: Any) -> str:
    """A deterministic message id: the same job (same item, same settings) has the same id,
    so its result key is the same however often it is sent, retried or redelivered."""
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{kind}-{hashlib.sha256(blob.encode('utf-8')).hexdigest()[:40]}"


def texts_digest(texts: Sequence[str]) -> list[str]:
    """Short stand-ins for texts in a job id (the id need not carry the texts themselves)."""
    return [hashlib.sha256(t.encode("utf-8")).hexdigest()[:16] for t in texts]

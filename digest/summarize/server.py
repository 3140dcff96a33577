"""`[summarizer] backend = "openai"`: the model summarizer with its model on a server.

The server side (what is sent, how labels are ranked, the fallbacks) is digest.inference.openai;
this is the summarizer around it, beside the in-process ones.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import SummarizerSettings
from ..errors import ModelError
from ..inference.openai import RULES, ServerModel
from ..models import Article, QuickLooks
from ..runtime import size_torch_threads
from .models import DEFAULT_MODEL, load_model
from .quicklooks import ModelSummarizer

log = logging.getLogger(__name__)


class OpenAISummarizer:
    """`[summarizer] backend = "openai"`: the model summarizer with its model on a server.

    Bullets are chosen exactly as in-process; labels and (with `rewrite = true`) rewrites
    come from the server through `ServerModel`, with the fallbacks described above.
    """

    def __init__(
        self,
        settings: SummarizerSettings,
        cache_dir: Path | str = Path("state/models"),
        *,
        embedder: Any = None,
        threads: int | None = None,
        compressor: Any = None,
    ) -> None:
        self.settings = settings
        self.name = f"openai:{settings.model}"
        self.cache_dir = Path(cache_dir)
        self.threads = threads
        self._local: Any = None
        self._local_failed = False
        self._lock = threading.Lock()
        self.model = ServerModel(settings, self._local_model)
        self._inner = ModelSummarizer(
            settings,
            self.cache_dir,
            model=self.model,
            embedder=embedder,
            threads=threads,
            compressor=compressor,
        )
        self._inner.name = self.name

    @property
    def embedder(self) -> Any:
        """The embedder bullet selection uses (part of the summary cache key)."""
        return self._inner.embedder

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.model.server.url

    def _local_model(self) -> Any:
        """The packaged model in-process, loaded on the first fallback; None for "rules"."""
        if self.settings.fallback == "rules":
            return None
        with self._lock:
            if self._local is None and not self._local_failed:
                try:
                    size_torch_threads(self.threads)
                    self._local = load_model(DEFAULT_MODEL, self.cache_dir)
                except ModelError as e:
                    self._local_failed = True
                    log.warning(
                        "fallback model %s not loaded, labels by rule: %s", DEFAULT_MODEL, e
                    )
            return self._local

    def summarize(self, stories: Sequence[Sequence[Article]]) -> list[QuickLooks]:
        """One QuickLooks per story; those made (partly) by the fallback name it as model."""
        self.model.server.reset()
        out = []
        for story in stories:  # one at a time: a story's labels never depend on the others
            self.model.fell_back = False
            [q] = self._inner.summarize([story])
            if self.model.fell_back:
                local = self._local
                q = dataclasses.replace(q, model=local.name if local is not None else RULES)
            out.append(q)
        return out

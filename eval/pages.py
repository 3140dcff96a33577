"""Quick Looks of real article pages, one story a page, printed for a person to read.

Each page is extracted as the pipeline does (navigation, promos and all are in the HTML) and
summarised as a one-article story. Every bullet is printed, and bullets that look like
boilerplate (reprint notices, newsletter prompts, photo credits ...) or that start with a
word pointing at nothing ("It", "They", a surname never introduced) are counted and marked,
so a reviewer can check the count against the printed bullets.

    python eval/pages.py [DIR] [--backend model|extractive] [--embed] [--compressor checked]

The default backend is `model`, what users get (the checked compressor, model labels);
`--backend extractive` shows the rules compressor and rule labels.

DIR defaults to ../shared/data/pages (the 60 real pages; *.html and *.html.gz are read).
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest.config import SummarizerSettings  # noqa: E402
from digest.errors import DigestError  # noqa: E402
from digest.summarize import build_summarizer  # noqa: E402
from digest.summarize.articles import article_from_html  # noqa: E402
from digest.summarize.referents import unresolved_start  # noqa: E402
from digest.summarize.text import word_count  # noqa: E402

# Wider than the extraction filter on purpose: this is the eval's own net, so a bullet the
# filter lets through is counted here rather than silently agreed with.
BOILERPLATE = re.compile(
    r"\b(?:reprints?|copyright|©|all rights reserved|newsletters?|subscribe|subscription|"
    r"sign up|click here|read more|photo (?:by|credit)|credit:|getty|shutterstock|"
    r"first appeared|originally (?:appeared|published)|share (?:this|on)|cookies?|"
    r"advertis|follow us|download (?:the|our) app|terms of (?:use|service)|privacy policy|"
    r"log ?in|sign in|register\b|email address|inbox|contact us|leave a comment|"
    r"comments are closed|without permission|download the|latest (?:stories|news))",
    re.IGNORECASE,
)


def main(argv: list[str] | None = None) -> int:
    """Print every page's Quick Looks and the boilerplate and referent counts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", nargs="?", default=str(ROOT / ".." / "shared" / "data" / "pages"))
    # The model backend is what config.toml ships: the checked compressor and model labels.
    parser.add_argument("--backend", choices=["model", "extractive"], default="model")
    parser.add_argument("--cache-dir", default=os.environ.get("DIGEST_MODEL_CACHE", "state/models"))
    parser.add_argument("--embed", action="store_true", help="MiniLM for repeated facts")
    parser.add_argument(
        "--compressor",
        choices=["checked", "minilm", "rules"],
        default=None,
        help="what shortens bullets (default: the backend's own: rules for extractive)",
    )
    args = parser.parse_args(argv)

    folder = Path(args.dir)
    files = sorted(p for p in folder.iterdir() if p.name.endswith((".html", ".html.gz")))
    if not files:
        print(f"{folder}: no .html or .html.gz pages", file=sys.stderr)
        return 1
    embedder = None
    if args.embed:
        from digest.embed import build_embedder

        embedder = build_embedder("minilm")
    summarizer = build_summarizer(
        SummarizerSettings(backend=args.backend), Path(args.cache_dir), embedder=embedder
    )
    if args.compressor:
        from digest.summarize.compress_model import load_compressor

        summarizer.compressor = load_compressor(args.compressor)  # type: ignore[attr-defined]
    stories, names = [], []
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        try:
            stories.append([article_from_html(data, path.name)])
            names.append(path.name)
        except DigestError as e:
            print(f"skipped: {e}")
    started = time.perf_counter()
    results = [summarizer.summarize([s])[0] for s in stories]
    seconds = time.perf_counter() - started

    n_bullets = n_boiler = n_unresolved = 0
    lengths: list[int] = []
    for name, story, q in zip(names, stories, results, strict=True):
        print(f"=== {name}\n## {q.headline}")
        for b in q.bullets:
            marks = []
            if BOILERPLATE.search(b.text):
                marks.append("BOILERPLATE?")
                n_boiler += 1
            if unresolved_start(b.text, [a.text for a in story]):
                marks.append("UNRESOLVED?")
                n_unresolved += 1
            n = word_count(b.text)
            lengths.append(n)
            n_bullets += 1
            print(f"- {b.label}: {b.text} [{n}w]{' ' + ' '.join(marks) if marks else ''}")
        print()
    print(
        f"pages {len(stories)} | bullets {n_bullets} | flagged boilerplate {n_boiler} | "
        f"flagged unresolved start {n_unresolved} | words a bullet: mean "
        f"{statistics.mean(lengths) if lengths else 0:.1f}, max {max(lengths, default=0)} | "
        f"over 22 words {sum(n > 22 for n in lengths)} | {seconds:.1f} s"
    )
    compressor = getattr(summarizer, "compressor", None)
    if compressor is not None:
        print(f"compressor {compressor.name}: {getattr(compressor, 'counts', {})}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

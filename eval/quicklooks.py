"""Evaluate Quick Looks: format compliance, grounding, redundancy, and ROUGE against a reference.

Each PATH is one story: a file (one article), several files joined with "+" (several outlets
of one story), or a folder (every .txt/.html in it). Text files have the title on the first
line. Examples:

    python eval/quicklooks.py tests/data/articles/rates_norland.txt \\
        tests/data/articles/storm_coastpost.txt+tests/data/articles/storm_northwire.txt

    # the two seed articles as one story, against the five human Quick Looks of the Newslooks
    # seed (its Quick Looks block is taken out of the input so it cannot be copied):
    python eval/quicklooks.py --reference ../shared/seeds/004_79087644f75beb88.txt \\
        ../shared/seeds/000_748678f593ee2890.txt+../shared/seeds/004_79087644f75beb88.txt

--reference applies to every story given; it is a file of "Label: text" lines or a page with
a "...: Quick Looks" block followed by "- Label: text" bullets (only the bullets are used).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digest.config import SummarizerSettings  # noqa: E402
from digest.models import Article, QuickLooks  # noqa: E402
from digest.summarize import build_summarizer  # noqa: E402
from digest.summarize.articles import article_from_html, article_from_text  # noqa: E402
from digest.summarize.checks import (  # noqa: E402
    format_problems,
    grounding_share,
    redundancy,
    repeated_bullets,
    ungrounded_bullets,
)
from digest.summarize.grounding import SourceIndex  # noqa: E402
from digest.summarize.labels import clean_label, unbacked_label_words  # noqa: E402
from digest.summarize.referents import unresolved_start  # noqa: E402
from digest.summarize.text import (  # noqa: E402
    blocks,
    content_words,
    ends_sentence,
    split_sentences,
    strip_tag_chain,
    word_count,
)

_QUICK_LOOKS_HEAD = re.compile(r"^.{0,200}:\s*Quick Looks\s*$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*[-*•]\s*(.+?):\s+(.+)$")


def reference_block(text: str) -> tuple[list[str], tuple[int, int] | None]:
    """The reference bullets ("Label: text") of a page, and the line span of its block."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _QUICK_LOOKS_HEAD.match(line.strip()):
            bullets, j = [], i + 1
            while j < len(lines) and _BULLET.match(lines[j]):
                m = _BULLET.match(lines[j])
                assert m
                bullets.append(f"{m.group(1).strip()}: {m.group(2).strip()}")
                j += 1
            if bullets:
                return bullets, (i, j)
    plain = [ln.strip().lstrip("-*• ") for ln in lines if ":" in ln and ln.strip()]
    return plain, None


def load_article(path: Path, strip_reference: bool) -> Article:
    """One article from a .txt or .html file; a reference Quick Looks block is removed."""
    if path.suffix.lower() in (".html", ".htm"):
        return article_from_html(path.read_bytes(), path.name)
    text = path.read_text(encoding="utf-8", errors="replace")
    if strip_reference:
        _, span = reference_block(text)
        if span:
            lines = text.splitlines()
            text = "\n".join(lines[: span[0]] + lines[span[1] :])
    return article_from_text(text, path.name)


def story_paths(spec: str) -> list[Path]:
    """The files of one story: "a+b", a folder, or one file."""
    path = Path(spec)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in (".txt", ".html", ".htm"))
    return [Path(p) for p in spec.split("+")]


def rouge(candidate: list[str], reference: list[str]) -> dict[str, float]:
    """ROUGE-1/2/Lsum F1 of bullet lines against reference lines (rouge-score, stemmed)."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    scores = scorer.score("\n".join(reference), "\n".join(candidate))
    return {k: round(v.fmeasure, 4) for k, v in scores.items()}


FACT_COVERED = 0.4  # share of a human bullet's content words that one bullet must repeat


def facts_covered(bullets: list[str], reference: list[str]) -> int:
    """How many human bullets have a bullet that repeats FACT_COVERED of their content words."""
    ours = [set(content_words(b)) for b in bullets]
    n = 0
    for ref in reference:
        want = set(content_words(ref.split(":", 1)[-1]))
        if want and max((len(want & o) / len(want) for o in ours), default=0) >= FACT_COVERED:
            n += 1
    return n


def facts_within_reach(articles: list[Article], reference: list[str]) -> int:
    """How many human bullets ANY source sentence covers (FACT_COVERED): the ceiling of
    `facts_covered` for bullets made only of source words, since deleting words never adds one.

    A human bullet that rewrites ("Moscow threatens escalation after ...") may share too few
    words with every source sentence to be counted, whatever the bullets say.
    """
    sentences = [
        s
        for a in articles
        for block in blocks(a.text)
        for s in split_sentences(strip_tag_chain(block))
        if ends_sentence(s)
    ]
    return facts_covered(sentences, reference)


def label_checks(q: QuickLooks, articles: list[Article]) -> dict[str, float]:
    """Share of labels passing each label check that exists (labels.clean_label, grounding).

    Grounded is the summariser's own rule (`unbacked_label_words`, what `checks` enforces):
    each word in the sources by stem, or a form of the bullet's own verbs ("Detours Faced" of
    "drivers face detours", "Widening" of "widened")."""
    index = SourceIndex.build([a.title for a in articles] + [a.text for a in articles])
    labels = [b.label for b in q.bullets]
    if not labels:
        return {}
    grounded = [not unbacked_label_words(b.label, b.text, index) for b in q.bullets]
    kept = [
        clean_label(lab, None, labels[:i]) is not None and grounded[i]
        for i, lab in enumerate(labels)
    ]
    # A label made of the bullet's first words says nothing the bullet does not say first.
    not_prefix = [not b.text.lower().startswith(b.label.lower()) for b in q.bullets]
    return {
        "label_clean": round(sum(kept) / len(labels), 4),
        "label_grounded": round(sum(grounded) / len(labels), 4),
        "label_not_opening_words": round(sum(not_prefix) / len(labels), 4),
    }


def evaluate(
    q: QuickLooks, articles: list[Article], reference: list[str] | None, min_bullets: int
) -> dict[str, object]:
    """Every metric for one story's Quick Looks."""
    problems = format_problems(q, min_bullets=min_bullets)
    lengths = [word_count(b.text) for b in q.bullets] or [0]
    texts = [a.text for a in articles]
    result: dict[str, object] = {
        "headline": q.headline,
        "headline_words": word_count(q.headline),
        "bullets": [f"{b.label}: {b.text}" for b in q.bullets],
        "format_ok": not problems,
        "format_problems": problems,
        "grounding": round(grounding_share(q, articles), 4),
        "ungrounded": ungrounded_bullets(q, articles),
        "redundancy": round(redundancy(q), 4),
        "repeated": repeated_bullets(q),
        "mean_words": round(statistics.mean(lengths), 2),
        "max_words": max(lengths),
        "unresolved_share": round(
            sum(unresolved_start(b.text, texts) for b in q.bullets) / max(1, len(q.bullets)), 4
        ),
        **label_checks(q, articles),
    }
    if reference:
        result["rouge"] = rouge([f"{b.label}: {b.text}" for b in q.bullets], reference)
        result["reference"] = reference
        result["facts_covered"] = f"{facts_covered([b.text for b in q.bullets], reference)}"
        result["facts_covered"] += f"/{len(reference)}"
        result["facts_within_reach"] = f"{facts_within_reach(articles, reference)}"
        result["facts_within_reach"] += f"/{len(reference)}"
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and print a report (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", help="stories: FILE, FILE+FILE..., or a folder")
    parser.add_argument(
        "--reference",
        type=Path,
        action="append",
        help="human Quick Looks to compare with: once for every story, or once per story",
    )
    parser.add_argument("--backend", choices=["model", "extractive"], default="model")
    parser.add_argument("--model", default=None, help="model id or folder (default: packaged)")
    parser.add_argument("--cache-dir", default=os.environ.get("DIGEST_MODEL_CACHE", "state/models"))
    parser.add_argument("--embed", action="store_true", help="let MiniLM catch paraphrased repeats")
    parser.add_argument(
        "--compressor",
        choices=["checked", "minilm", "rules"],
        default=None,
        help="what shortens bullets (default: the backend's own; the model's is checked)",
    )
    parser.add_argument("--min-bullets", type=int, default=3, help="format: fewest bullets")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)

    refs = [reference_block(r.read_text(encoding="utf-8"))[0] for r in args.reference or []]
    if refs and len(refs) not in (1, len(args.paths)):
        parser.error("give --reference once, or once per story")
    ref_files = list(args.reference or [])
    per_story = [
        (refs[i] if len(refs) > 1 else refs[0]) if refs else None for i in range(len(args.paths))
    ]
    reference = bool(refs)
    settings = SummarizerSettings(backend=args.backend)
    if args.model:
        settings = settings.model_copy(update={"model": args.model})
    embedder = None
    if args.embed:
        from digest.embed import build_embedder

        embedder = build_embedder("minilm")
    summarizer = build_summarizer(settings, Path(args.cache_dir), embedder=embedder)
    if args.compressor:
        from digest.summarize.compress_model import load_compressor

        summarizer.compressor = load_compressor(args.compressor)  # type: ignore[attr-defined]

    stories = []
    for spec in args.paths:
        files = story_paths(spec)
        same = [any(f.resolve() == r.resolve() for r in ref_files) for f in files]
        stories.append([load_article(f, bool(s)) for f, s in zip(files, same, strict=True)])
    started = time.perf_counter()
    results = summarizer.summarize(stories)
    seconds = time.perf_counter() - started

    report = [
        evaluate(q, arts, ref, args.min_bullets)
        for q, arts, ref in zip(results, stories, per_story, strict=True)
    ]
    summary: dict[str, object] = {
        "stories": len(report),
        "model": summarizer.name,
        "format_compliance": sum(bool(r["format_ok"]) for r in report) / len(report),
        "grounding": statistics.mean(float(r["grounding"]) for r in report),  # type: ignore[arg-type]
        "max_redundancy": max(float(r["redundancy"]) for r in report),  # type: ignore[arg-type]
        "repeated_bullets": sum(len(r["repeated"]) for r in report),  # type: ignore[arg-type]
        "seconds": round(seconds, 2),
        "compressor": getattr(getattr(summarizer, "compressor", None), "name", None),
        # Which compression each candidate sentence got (the checked compressor only).
        "compressions": dict(getattr(getattr(summarizer, "compressor", None), "counts", {})),
        "mean_words": round(statistics.mean(float(r["mean_words"]) for r in report), 2),  # type: ignore[arg-type]
        "max_words": max(int(r["max_words"]) for r in report),  # type: ignore[call-overload]
        "unresolved_share": round(
            statistics.mean(float(r["unresolved_share"]) for r in report),  # type: ignore[arg-type]
            4,
        ),
    }
    for key in ("label_clean", "label_grounded", "label_not_opening_words"):
        if all(key in r for r in report):
            summary[key] = round(statistics.mean(float(r[key]) for r in report), 4)  # type: ignore[arg-type]
    if reference:
        for key in ("rouge1", "rouge2", "rougeLsum"):
            summary[key] = round(
                statistics.mean(r["rouge"][key] for r in report),  # type: ignore[index]
                4,
            )
    if args.json:
        print(json.dumps({"summary": summary, "stories": report}, indent=2, ensure_ascii=False))
        return 0
    for spec, r in zip(args.paths, report, strict=True):
        print(f"=== {spec}")
        print(f"## {r['headline']}")
        for line in r["bullets"]:  # type: ignore[attr-defined]
            print(f"- {line}")
        print(
            f"format {'ok' if r['format_ok'] else 'FAIL ' + '; '.join(r['format_problems'])}"  # type: ignore[arg-type]
            f" | grounding {r['grounding']:.0%} | redundancy {r['redundancy']:.2f}"
            f" | words mean {r['mean_words']} max {r['max_words']}"
            f" | unresolved {r['unresolved_share']:.0%}"
            f" | labels clean {r.get('label_clean', 0):.0%}"
            + (
                f" | ROUGE {r['rouge']} | facts {r['facts_covered']}"
                f" (within reach of source sentences {r['facts_within_reach']})"
                if "rouge" in r
                else ""
            )
        )
        for bullet, missing in r["ungrounded"]:  # type: ignore[attr-defined]
            print(f"  ungrounded: {bullet!r}: {missing}")
        print()
    print("summary:", json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

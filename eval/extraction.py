"""Measure article extraction on the page fixtures: trafilatura default vs favor_precision.

Each page in tests/data/pages/NAME.html that has a NAME.txt next to it (the article text as
written, paragraphs separated by blank lines) is extracted the way the pipeline does it
(`digest.extract.extract_page`), once per mode, and scored with word-level precision, recall
and F1 against the known text (bag of lower-cased words, so a repeated boilerplate word counts).

    python eval/extraction.py            # table per page and the macro averages
    python eval/extraction.py --json     # the same numbers as JSON
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from digest.errors import ExtractError
from digest.extract import extract_page

PAGES = Path(__file__).resolve().parent.parent / "tests" / "data" / "pages"
BASE = "http://fixtures.example"  # stands in for the test server's {{BASE}}

MODES = {
    "default": {"favor_precision": False, "include_tables": False},
    "favor_precision": {"favor_precision": True, "include_tables": False},
    "default+tables": {"favor_precision": False, "include_tables": True},
    "precision+tables": {"favor_precision": True, "include_tables": True},
}

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Score:
    """Word-level agreement of one extraction with the known text."""

    page: str
    mode: str
    precision: float
    recall: float
    f1: float
    words: int
    error: str | None = None


def words(text: str) -> Counter[str]:
    """Bag of lower-cased word tokens."""
    return Counter(w.casefold() for w in _WORD.findall(text))


def score(extracted: str, gold: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of the extracted words against the gold words."""
    got, want = words(extracted), words(gold)
    overlap = sum((got & want).values())
    precision = overlap / sum(got.values()) if got else 0.0
    recall = overlap / sum(want.values()) if want else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate(pages: Path = PAGES) -> list[Score]:
    """Score every page that has a gold text, in every mode."""
    scores = []
    for gold_path in sorted(pages.glob("*.txt")):
        html_path = gold_path.with_suffix(".html")
        if not html_path.exists():
            continue
        html = html_path.read_bytes().replace(b"{{BASE}}", BASE.encode())
        gold = gold_path.read_text("utf-8")
        url = f"{BASE}/pages/{html_path.name}"
        for mode, kwargs in MODES.items():
            try:
                page = extract_page(html, url, **kwargs)
            except ExtractError as e:
                scores.append(Score(html_path.stem, mode, 0.0, 0.0, 0.0, 0, str(e)))
                continue
            p, r, f = score(page.text, gold)
            scores.append(Score(html_path.stem, mode, p, r, f, len(page.text.split())))
    return scores


def summary(scores: list[Score]) -> dict[str, dict[str, float]]:
    """Macro averages of precision, recall and F1 per mode."""
    out = {}
    for mode in MODES:
        rows = [s for s in scores if s.mode == mode]
        n = len(rows) or 1
        out[mode] = {
            "precision": sum(s.precision for s in rows) / n,
            "recall": sum(s.recall for s in rows) / n,
            "f1": sum(s.f1 for s in rows) / n,
            "pages": len(rows),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the per-page table and the averages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    scores = evaluate()
    if not scores:
        print(f"no page fixtures with gold text under {PAGES}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"pages": [asdict(s) for s in scores], "mean": summary(scores)}, indent=2))
        return 0
    print(f"{'page':36} {'mode':16} {'P':>6} {'R':>6} {'F1':>6} {'words':>6}")
    for s in scores:
        note = f"  ({s.error})" if s.error else ""
        print(
            f"{s.page:36} {s.mode:16} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f}"
            f" {s.words:6d}{note}"
        )
    print()
    for mode, avg in summary(scores).items():
        print(
            f"mean {mode:16} P={avg['precision']:.3f} R={avg['recall']:.3f} "
            f"F1={avg['f1']:.3f} over {avg['pages']:.0f} pages"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

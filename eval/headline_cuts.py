"""How digest cuts real titles to headlines: how many fit, and a sample to read.

Every title of the headline data (5,845 real news titles from some 1,850 publishers) and of
the real article pages goes through `headline.short_title`, as a story's headline does. It
prints how many titles were over `MAX_HEADLINE_WORDS` words and how many the cut brought
within it, flags cuts that end in a joining word or leave a quotation open, and prints a
fixed sample of cuts for a person to read. With --judged it tallies a blind judgement in
`eval/data/headline_blind*/` (list.tsv: the headlines of two code versions, shuffled; key.tsv:
which version made each; judged_*.tsv: yes/no by a judge who saw only the list).

    python eval/headline_cuts.py [--data ../shared/data/headline-stories-dev.csv]
                             [--pages ../shared/data/pages] [--sample 30] [--judged FILE]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest.errors import DigestError  # noqa: E402
from digest.summarize.articles import article_from_html  # noqa: E402
from digest.summarize.headline import (  # noqa: E402
    _STOP_ENDS,
    MAX_HEADLINE_WORDS,
    _open_quote,
    short_title,
    tidy_title,
)
from digest.summarize.text import clean_title, word_count  # noqa: E402

SHARED = ROOT / ".." / "shared" / "data"
BLIND = ROOT / "eval" / "data"


def flags(cut: str) -> list[str]:
    """What a reader would trip over in a cut title."""
    out = []
    last = cut.split()[-1].strip("\"'“”‘’,.;:").lower() if cut.split() else ""
    if last in _STOP_ENDS:
        out.append("ends in a joining word")
    if _open_quote(cut) or cut.count('"') % 2:
        out.append("open quotation")
    return out


def report(name: str, titles: list[str], sample: int) -> None:
    long = [t for t in titles if word_count(t) > MAX_HEADLINE_WORDS]
    cuts = [short_title(t) for t in long]
    fit = sum(word_count(c) <= MAX_HEADLINE_WORDS for c in cuts)
    near = sum(word_count(c) <= MAX_HEADLINE_WORDS + 2 for c in cuts)
    kept = sum(c == t for c, t in zip(cuts, long, strict=True))
    flagged = Counter(f for c in cuts for f in flags(c))
    n = len(long) or 1
    print(
        f"{name}: {len(titles)} titles, {len(long)} over {MAX_HEADLINE_WORDS} words; after the "
        f"cut {fit} ({fit / n:.0%}) within {MAX_HEADLINE_WORDS}, {near} ({near / n:.0%}) within "
        f"{MAX_HEADLINE_WORDS + 2}, {kept} ({kept / n:.0%}) left whole; flagged: "
        + (", ".join(f"{k} {v}" for k, v in sorted(flagged.items())) or "none")
    )
    rng = random.Random(7)
    for title, cut in rng.sample(list(zip(long, cuts, strict=True)), min(sample, len(long))):
        mark = "=" if cut == title else f"{word_count(title)}>{word_count(cut)}"
        print(f"  [{mark}] {cut}" + ("" if cut == title else f"\n        <- {title}"))


def page_titles(folder: Path) -> list[str]:
    titles = []
    for path in sorted(folder.glob("*.html*")):
        data = path.read_bytes()
        data = gzip.decompress(data) if path.suffix == ".gz" else data
        try:
            article = article_from_html(data, path.name)
        except DigestError:
            continue
        if article.title:  # as a story's headline: without the outlet's name
            titles.append(tidy_title(clean_title(article.title, [article.outlet])))
    return titles


def tally(judged: Path) -> None:
    with (judged.parent / "key.tsv").open(encoding="utf-8") as f:
        key = {
            r["id"]: (r["made by"], r.get("set", "data")) for r in csv.DictReader(f, delimiter="\t")
        }
    with judged.open(encoding="utf-8") as f:
        apt = {
            r["id"]: r["apt"].strip().lower().startswith("y")
            for r in csv.DictReader(f, delimiter="\t")
        }
    for code in ("main", "headline"):
        ids = [i for i, (made, _) in key.items() if made in (code, "both")]
        yes = sum(apt[i] for i in ids)
        sets = Counter(key[i][1] for i in ids)
        by_set = ", ".join(
            f"{s} {sum(apt[i] for i in ids if key[i][1] == s)}/{n}" for s, n in sorted(sets.items())
        )
        print(
            f"{judged.parent.name}/{judged.name}: {code:8} {yes}/{len(ids)} = "
            f"{yes / len(ids):.0%} acceptable ({by_set})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(SHARED / "headline-stories-dev.csv"))
    parser.add_argument("--pages", default=str(SHARED / "pages"))
    parser.add_argument("--sample", type=int, default=30)
    parser.add_argument("--judged", nargs="*", default=None, help="judged_*.tsv to tally")
    args = parser.parse_args(argv)
    if args.judged is not None:
        for path in args.judged or sorted(BLIND.glob("headline_blind*/judged_*.tsv")):
            tally(Path(path))
        return 0
    data, pages = Path(args.data), Path(args.pages)
    if data.exists():
        with data.open(encoding="utf-8") as f:
            titles = [
                tidy_title(clean_title(r["TITLE"], [r["PUBLISHER"]])) for r in csv.DictReader(f)
            ]
        report(data.name, titles, args.sample)
    if pages.is_dir():
        report("pages", page_titles(pages), args.sample)
    if not data.exists() and not pages.is_dir():
        print(f"{data} and {pages}: not found", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

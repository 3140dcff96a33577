"""Tally a blind judgement of labels from two versions of the code, by version and by set.

`eval/data/label_blind/` holds one shuffled list of (bullet, label) pairs that two versions of
the label code gave for the same held-out bullets (`list.tsv`), the key saying which version
made each pair (`key.tsv`: main, labels, or both) and from which set (16 real pages, 50 news
sentences), and judgements (`judged_*.tsv`: id, apt yes/no), one file per judge. The
independent judge saw only the list and the rule written in BENCHMARKS.md.

A folder (e.g. `eval/data/label_blind2/`, the fifth session's held-out list built by
`eval/label_blind_build.py`: 10 real pages in any language and 60 compressed news sentences)
is tallied with its own key; a judgement file is tallied with the key of its folder.

    python eval/label_blind.py [FOLDER | FOLDER/judged_x.tsv ...]
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "data" / "label_blind"
GENERIC = frozenset(("Key Point", "Details", "Background", "More", "Also Noted"))


def tally(judged: Path) -> list[str]:
    """Apt shares by code version and set, for one judgement file (its folder holds the key)."""
    with (judged.parent / "key.tsv").open(encoding="utf-8") as f:
        key = {row["id"]: row for row in csv.DictReader(f, delimiter="\t")}
    with judged.open(encoding="utf-8") as f:
        apt = {
            r["id"]: r["apt"].strip().lower().startswith("y")
            for r in csv.DictReader(f, delimiter="\t")
        }
    with (judged.parent / "list.tsv").open(encoding="utf-8") as f:
        label_of = {r["id"]: r["label"] for r in csv.DictReader(f, delimiter="\t")}
    yes: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    kinds: Counter[tuple[str, str]] = Counter()  # one-word and generic labels, by code
    for i, row in key.items():
        codes = ("main", "labels") if row["made by"] == "both" else (row["made by"],)
        for code in codes:
            total[code, row["set"]] += 1
            yes[code, row["set"]] += apt[i]
            kinds[code, "one word"] += len(label_of[i].split()) == 1
            kinds[code, "generic"] += label_of[i] in GENERIC
    lines = [f"{judged.parent.name}/{judged.name}:"]
    for code in ("main", "labels"):
        parts = [
            f"{s} {yes[code, s]}/{total[code, s]}" for s in ("page", "sentence") if total[code, s]
        ]
        a, t = (
            sum(yes[code, s] for s in ("page", "sentence")),
            sum(total[code, s] for s in ("page", "sentence")),
        )
        lines.append(
            f"  {code:7} {', '.join(parts)}; all {a}/{t} = {a / t:.0%}"
            f" (one-word labels {kinds[code, 'one word']}, generic {kinds[code, 'generic']})"
        )
    return lines


def main() -> int:
    args = [Path(p) for p in sys.argv[1:]] or [FOLDER]
    files = [f for p in args for f in (sorted(p.glob("judged_*.tsv")) if p.is_dir() else [p])]
    for path in files:
        print("\n".join(tally(path)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

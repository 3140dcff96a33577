"""A blind, pairwise judgement of which bullets two versions of the code choose for a story.

Where `eval/bullet_blind.py` asks whether each bullet reads, this asks which version's set of
bullets is the better Quick Looks of the story: the lead first, the most important distinct
facets across outlets, no fact twice, news before colour. Stories: every page of
../shared/data/pages and every event of `eval/data/clustering` (main and held-out sets) that
two or more outlets tell. Bullets are `plan_story` with the checked compressor and MiniLM, as a
digest run makes them (labels are left out: they are judged elsewhere).

    PYTHONPATH=OLD python eval/story_blind.py plans --out old.json   # each version's bullets
    PYTHONPATH=NEW python eval/story_blind.py plans --out new.json
    python eval/story_blind.py make old.json new.json [--parts 2]    # list_N.txt + key.tsv
    python eval/story_blind.py tally [eval/data/story_blind/judged_*.tsv]

`make` lists only the stories whose bullets differ, each with its sources and the two sets as
"SET A" and "SET B" in a seeded random order; `key.tsv` says which is which. A judge sees only
a list file and RULE and writes `judged_N.tsv` (story, A|B|tie, why).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import random
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "eval" / "data" / "story_blind"
PAGES = ROOT / ".." / "shared" / "data" / "pages"
EVENTS = ROOT / "eval" / "data" / "clustering"
SOURCE_CHARS = 6000  # of each source shown to the judge
RULE = (
    "the first bullet should carry the story's main event (the lead); the other bullets should "
    "cover the most important DISTINCT facets of the story (what happened, to whom, key "
    "numbers, consequences, reactions), drawn across all outlets; two bullets on the same fact "
    "is a fault; minor details, colour, background and filler rank below the news; a bullet "
    "that does not make sense on its own is a fault. Fewer bullets are not better or worse in "
    "themselves. If the sets are about equally good, say tie."
)


def plans(pages: Path, events: Path) -> dict[str, dict[str, list[str]]]:
    """{story: {"texts": its sources, "bullets": the imported code's bullet texts}}."""
    from digest.config import SummarizerSettings
    from digest.embed import build_embedder
    from digest.errors import DigestError
    from digest.models import Article
    from digest.summarize import select
    from digest.summarize.articles import article_from_html

    embedder = build_embedder("minilm")
    compressor = select.default_compressor()
    settings = SummarizerSettings(backend="model")
    out: dict[str, dict[str, list[str]]] = {}
    for path in sorted(pages.glob("*.htm*")):
        raw = path.read_bytes()
        try:
            article = article_from_html(
                gzip.decompress(raw) if path.suffix == ".gz" else raw, path.name
            )
        except DigestError:
            continue
        plan = select.plan_story([article], settings, embedder, compressor)
        out[f"page:{path.name}"] = {
            "texts": [f"{article.title}\n\n{article.text}"],
            "bullets": [b.text for b in plan.bullets],
        }
    told: dict[str, list[dict[str, str]]] = {}
    for path in sorted(events.glob("*.toml")) + sorted(events.glob("holdout/*.toml")):
        for row in tomllib.loads(path.read_text(encoding="utf-8"))["article"]:
            told.setdefault(f"{path.relative_to(events)}#{row['event']}", []).append(row)
    for name, rows in told.items():
        if len(rows) < 2:
            continue
        articles = [
            Article(
                key=r["id"],
                feed_url="eval",
                url=r.get("url"),
                title=r["title"],
                text=r["text"],
                outlet=r["outlet"],
                content_hash=hashlib.sha256(r["text"].encode()).hexdigest(),
            )
            for r in rows
        ]
        plan = select.plan_story(articles, settings, embedder, compressor)
        out[f"event:{name}"] = {
            "texts": [f"[{r['outlet']}] {r['title']}\n\n{r['text']}" for r in rows],
            "bullets": [b.text for b in plan.bullets],
        }
    return out


def make(old: Path, new: Path, parts: int = 2, seed: int = 7) -> None:
    """The stories whose bullets differ, A/B shuffled, in `parts` list files, and the key."""
    a, b = json.loads(old.read_text()), json.loads(new.read_text())
    changed = [k for k in a if k in b and a[k]["bullets"] != b[k]["bullets"]]
    rng = random.Random(seed)
    FOLDER.mkdir(parents=True, exist_ok=True)
    blocks, key = [], []
    for n, story in enumerate(changed, 1):
        first, second = ("old", "new") if rng.random() < 0.5 else ("new", "old")
        key.append([n, story, first, second])
        made = {"old": a[story]["bullets"], "new": b[story]["bullets"]}
        sources = "\n\n---\n\n".join(t[:SOURCE_CHARS] for t in a[story]["texts"])
        blocks.append(
            f"######## STORY {n}\n=== SOURCE ARTICLE(S)\n{sources}\n\n=== SET A\n"
            + "\n".join(f"- {t}" for t in made[first])
            + "\n\n=== SET B\n"
            + "\n".join(f"- {t}" for t in made[second])
            + "\n"
        )
    size = -(-len(blocks) // max(1, parts))
    for i in range(0, len(blocks), max(1, size)):
        part = FOLDER / f"list_{i // size + 1}.txt"
        part.write_text(f"RULE: {RULE}\n\n" + "\n\n".join(blocks[i : i + size]), encoding="utf-8")
    with (FOLDER / "key.tsv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(["story", "source", "A", "B"])
        w.writerows(key)
    print(f"{len(changed)} of {len(a)} stories differ ({parts} list files)")


def tally(judged: list[Path]) -> list[str]:
    """Wins of each version, by kind of story (page or multi-outlet event)."""
    with (FOLDER / "key.tsv").open(encoding="utf-8") as f:
        key = {r["story"]: r for r in csv.DictReader(f, delimiter="\t")}
    wins: Counter[tuple[str, str]] = Counter()
    for path in judged:
        with path.open(encoding="utf-8") as f:
            for row in csv.reader(f, delimiter="\t"):
                if len(row) < 2 or row[0].strip() not in key:
                    continue
                k = key[row[0].strip()]
                verdict = row[1].strip().upper()
                winner = "tie" if verdict not in ("A", "B") else k[verdict]
                wins[k["source"].split(":", 1)[0], winner] += 1
    lines = []
    for kind in ("page", "event", "all"):
        counts = {
            v: sum(n for (s, w), n in wins.items() if w == v and kind in (s, "all"))
            for v in ("old", "new", "tie")
        }
        lines.append(f"{kind}: old {counts['old']}, new {counts['new']}, tie {counts['tie']}")
    return lines


def main() -> int:
    """The three steps: plans, make, tally."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("plans")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--pages", type=Path, default=PAGES)
    p.add_argument("--events", type=Path, default=EVENTS)
    p = sub.add_parser("make")
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    p.add_argument("--parts", type=int, default=2)
    p = sub.add_parser("tally")
    p.add_argument("judged", type=Path, nargs="*")
    args = parser.parse_args()
    if args.step == "plans":
        made = plans(args.pages, args.events)
        args.out.write_text(json.dumps(made, indent=1, ensure_ascii=False), encoding="utf-8")
    elif args.step == "make":
        make(args.old, args.new, args.parts)
    else:
        print("\n".join(tally(args.judged or sorted(FOLDER.glob("judged_*.tsv")))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

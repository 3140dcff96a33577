"""A blind judgement of bullets from two versions of the code: make the list, then tally it.

The held-out set is fixed by rule before anything is judged: the 15 English pages of
../shared/data/pages whose file names have the smallest sha256, and the 40 sentences of the
compression data's eval split whose original text has the smallest sha256 (the checks were
written without reading those rows). Page bullets are `plan_story` with the checked compressor
(no embedder); a sentence's bullet is what `select._compressed` makes of it alone (the
compression, else its whole sentence, else none).

    PYTHONPATH=OLD python eval/bullet_blind.py bullets --out old.json   # each version's bullets
    PYTHONPATH=NEW python eval/bullet_blind.py bullets --out new.json
    python eval/bullet_blind.py make old.json new.json                 # list.tsv + key.tsv
    python eval/bullet_blind.py tally [eval/data/bullet_blind/judged_*.tsv]

`list.tsv` (id, bullet) is all a judge sees, with the rule: "a bullet is acceptable if it reads
as one complete, grammatical, standalone sentence of article prose that a reader understands
without the article". `key.tsv` says which version made each bullet (old, new or both) and
from which set; a judge writes `judged_NAME.tsv` (id, ok yes/no).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "eval" / "data" / "bullet_blind"
PAGES = ROOT / ".." / "shared" / "data" / "pages"
DATA = ROOT / ".." / "shared" / "data" / "sentence-compression-dev.csv"
N_PAGES = 15
N_SENTENCES = 40
RULE = (
    "a bullet is acceptable if it reads as one complete, grammatical, standalone sentence of "
    "article prose that a reader understands without the article"
)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def bullets(pages: Path, data: Path) -> dict[str, list[str]]:
    """The bullets the imported code makes for the held-out pages and sentences."""
    from digest.config import SummarizerSettings
    from digest.summarize import select
    from digest.summarize.articles import article_from_html
    from digest.summarize.compress_data import detokenize, load_pairs
    from digest.summarize.compress_model import load_compressor
    from digest.summarize.text import capitalize_first, content_words, is_english

    compressor = load_compressor("checked")
    settings = SummarizerSettings(backend="extractive")
    out: dict[str, list[str]] = {}
    articles = []
    for path in sorted(pages.iterdir(), key=lambda p: _sha(p.name)):
        if not path.name.endswith((".html", ".html.gz")):
            continue
        raw = path.read_bytes()
        article = article_from_html(
            gzip.decompress(raw) if path.suffix == ".gz" else raw, path.name
        )
        if is_english(article.text[:4000]):
            articles.append((path.name, article))
        if len(articles) == N_PAGES:
            break
    for name, article in articles:
        plan = select.plan_story([article], settings, None, compressor)
        out[f"page:{name}"] = [b.text for b in plan.bullets]
    pairs = sorted(load_pairs(data, split="eval"), key=lambda p: _sha(p.text))
    for pair in pairs[:N_SENTENCES]:
        text = capitalize_first(detokenize(pair.tokens))
        cand = select.Candidate(text, text, 0, 0, frozenset(content_words(text)))
        made = select._compressed([cand], compressor, [[text]], [text])
        out[f"sentence:{_sha(pair.text)[:12]}"] = [c.text for c in made]
    return out


def make(old: Path, new: Path, seed: int = 7) -> None:
    """One shuffled list of both versions' bullets (a bullet both made appears once)."""
    a, b = json.loads(old.read_text()), json.loads(new.read_text())
    rows: dict[tuple[str, str], set[str]] = {}
    for version, made in (("old", a), ("new", b)):
        for source, texts in made.items():
            for text in texts:
                rows.setdefault((source, text), set()).add(version)
    items = sorted(rows)
    random.Random(seed).shuffle(items)
    FOLDER.mkdir(parents=True, exist_ok=True)
    with (FOLDER / "list.tsv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(["id", "bullet"])
        for i, (_, text) in enumerate(items, 1):
            w.writerow([i, text])
    with (FOLDER / "key.tsv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(["id", "made by", "set", "source"])
        for i, (source, text) in enumerate(items, 1):
            versions = rows[source, text]
            made_by = "both" if len(versions) == 2 else next(iter(versions))
            w.writerow([i, made_by, source.split(":", 1)[0], source.split(":", 1)[1]])
    counts = {v: sum(len(t) for t in m.values()) for v, m in (("old", a), ("new", b))}
    print(f"{len(items)} bullets in the list; old made {counts['old']}, new {counts['new']}")


def tally(judged: Path) -> list[str]:
    """Each version's share of acceptable bullets, by set."""
    with (FOLDER / "key.tsv").open(encoding="utf-8") as f:
        key = {r["id"]: r for r in csv.DictReader(f, delimiter="\t")}
    with judged.open(encoding="utf-8") as f:
        ok = {
            r["id"]: r["ok"].strip().lower().startswith("y")
            for r in csv.DictReader(f, delimiter="\t")
        }
    yes: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    for i, row in key.items():
        if i not in ok:
            continue
        for version in ("old", "new") if row["made by"] == "both" else (row["made by"],):
            total[version, row["set"]] += 1
            yes[version, row["set"]] += ok[i]
    lines = [f"{judged.name}: {len(ok)} of {len(key)} judged"]
    for version in ("old", "new"):
        parts = [f"{s} {yes[version, s]}/{total[version, s]}" for s in ("page", "sentence")]
        a = sum(yes[version, s] for s in ("page", "sentence"))
        t = sum(total[version, s] for s in ("page", "sentence"))
        lines.append(f"  {version}: {', '.join(parts)}; all {a}/{t} = {a / max(1, t):.0%}")
    return lines


def main() -> int:
    """The three steps: bullets, make, tally."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("bullets")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--pages", type=Path, default=PAGES)
    p.add_argument("--data", type=Path, default=DATA)
    p = sub.add_parser("make")
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    p = sub.add_parser("tally")
    p.add_argument("judged", type=Path, nargs="*")
    args = parser.parse_args()
    if args.step == "bullets":
        args.out.write_text(
            json.dumps(bullets(args.pages, args.data), indent=1, ensure_ascii=False)
        )
    elif args.step == "make":
        make(args.old, args.new)
    else:
        for path in args.judged or sorted(FOLDER.glob("judged_*.tsv")):
            print("\n".join(tally(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

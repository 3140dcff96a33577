"""The labelled fixture set and the eval's scoring (fast: no model)."""

from __future__ import annotations

from collections import Counter

import pytest
from twins import eval_script


@pytest.fixture(scope="module")
def ev():
    return eval_script("clustering")


def test_fixture_set_covers_what_the_eval_claims(ev) -> None:
    fixtures = ev.load_fixtures()
    per_event = Counter(x.event for x in fixtures)
    outlets = {e: len({x.article.outlet for x in fixtures if x.event == e}) for e in per_event}
    told_by_several = [e for e, n in outlets.items() if 2 <= n <= 5]
    assert len(told_by_several) >= 15
    kinds = Counter(x.kind for x in fixtures)
    assert kinds["lookalike"] >= 10 and kinds["wire"] >= 4 and kinds["followup"] >= 3
    assert kinds["thin"] >= 5
    assert len({x.article.key for x in fixtures}) == len(fixtures)
    # The near-duplicate gold pairs are found from the wire copies' datelines.
    assert len(ev._near_dup_gold(fixtures)) >= 6


def test_pair_scores_count_pairs(ev) -> None:
    gold = {"a": "x", "b": "x", "c": "y", "d": "y"}
    predicted = {"a": "1", "b": "1", "c": "1", "d": "2"}
    s = ev.pair_scores(gold, predicted)
    assert (s.true_pairs, s.predicted_pairs, s.correct_pairs) == (2, 3, 1)
    assert s.precision == pytest.approx(1 / 3) and s.recall == pytest.approx(1 / 2)
    assert set(s.false_merges) == {("a", "c"), ("b", "c")} and s.missed == (("c", "d"),)


def test_seed_titles_are_found_without_copying_the_seeds(ev, tmp_path) -> None:
    (tmp_path / "1.txt").write_text(
        "World\n\nA Headline About Something That Happened Today\n\n2024-11-20\n\nBody text.\n"
    )
    (tmp_path / "2.txt").write_text(
        "tag/ other tag/ CITY/ Outlet/ A long lead sentence that ends with a stop.\n"
        "Another Headline About The Thing: Quick Looks\n- Point: one.\n"
    )
    a, b = ev.load_seed_articles(tmp_path)
    assert a.title == "A Headline About Something That Happened Today"
    assert b.title == "Another Headline About The Thing: Quick Looks"
    assert "Body text." in a.text and a.title not in a.text


@pytest.fixture(scope="module")
def hl():
    return eval_script("headlines")


def test_headline_csv_is_split_by_story_and_bad_rows_are_named(hl, tmp_path) -> None:
    rows = ["ID,TITLE,PUBLISHER,STORY,TIMESTAMP"]
    for i in range(40):
        rows.append(
            f"{i},Norvik headline number {i},Outlet {i % 3},story-{i % 8},{1700000000000 + i}"
        )
    rows.append("99,No time here,Outlet,story-1,")
    path = tmp_path / "h.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    items, skipped = hl.load_headlines(path)
    assert len(items) == 40
    assert skipped == [f"{path}:42: no title, story or timestamp"]
    halves = {}
    for h in items:
        halves.setdefault(h.story, set()).add(h.half)
    assert all(len(v) == 1 for v in halves.values())  # no story in both halves
    assert {h.half for h in items} == {"tune", "test"}
    assert [h.article.published for h in items] == sorted(h.article.published for h in items)
    bodies = [h.article.text for h in items]
    assert "" in bodies and any(b.startswith("Norvik headline") for b in bodies)


def test_headline_scores_pairwise_and_bcubed(hl) -> None:
    gold = {"a": "x", "b": "x", "c": "x", "d": "y"}
    predicted = {"a": "1", "b": "1", "c": "2", "d": "2"}
    s = hl.scores(gold, predicted)
    # Predicted pairs ab (right) and cd (wrong); true pairs ab, ac, bc.
    assert s["pairwise_precision"] == 0.5 and s["pairwise_recall"] == round(1 / 3, 4)
    # B-cubed precision: a, b 1; c, d 1/2 -> 0.75. Recall: a, b 2/3; c 1/3; d 1 -> 2/3.
    assert s["bcubed_precision"] == 0.75 and s["bcubed_recall"] == round(2 / 3, 4)
    assert s["false_pairs"] == 1 and s["stories_mixing_gold_stories"] == 1

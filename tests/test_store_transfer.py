"""`digest state export` / `import`: a deployment moves between SQLite and PostgreSQL with its
ledger intact, and `digest migrate`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from state_backends import StateBackend, make_backend
from test_store import react

from digest.cli import main
from digest.errors import StateError
from digest.models import Article, MergeReason
from digest.store import MIGRATIONS, IndexedArticle, Store, StoryHead, StoryWrite

T0 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
PAIRS = [("sqlite", "postgres"), ("postgres", "sqlite"), ("sqlite", "sqlite")]


def _fill(store: Store) -> None:
    """A little of everything, bytes and all."""
    a = Article(
        "a", "https://f.example/rss", "https://f.example/a", "Flood barrier", "Text.", "F", "h-a"
    )
    store.add_articles([a], T0)
    store.save_assignments(
        StoryWrite(
            stories=[StoryHead("s1", "Flood barrier", T0, T0)],
            members=[("a", "s1")],
            reasons=[("s1", MergeReason("a", "identical", 1.0, "same page"))],
            indexed=[
                IndexedArticle(
                    "a",
                    "s1",
                    T0,
                    "f.example/a",
                    "h-a",
                    (),
                    "m",
                    b"\x00\xff" * 4,
                    b"\x01sig",
                    {"title": "Flood barrier"},
                )
            ],
        ),
        T0,
    )
    store.record_feed_success("https://f.example/rss", T0, etag='"1"', last_modified=None)
    store.record_delivery("slack:#news", ["s1"], kind="story", digest="world", ref="1.1", now=T0)
    store.record_intent(
        "email:a@x.example", "k", digest="world", story_ids=["s1"], kinds=["story"], now=T0
    )
    run = store.start_run("world", "p1", T0)
    store.finish_run(run, T0, "ok", None, 1)
    store.record_cut("world", [("s9", 2)], [], T0)
    store.queue_alert("planes", "s1", "why", T0)
    store.set_subscriber("world", "ann@example.com", "unsubscribed", "web", T0)
    store.archive_digest("world", "digest", T0, "2026-11-20", {"stories": [{"id": "s1"}]})
    store.add_follow(
        "slack:#news",
        channel_id="C1",
        channel_name="#news",
        text="storm",
        rule={"keywords": {"any": ["storm"]}},
        created_by="U1",
        now=T0,
    )
    store.add_mute(
        "slack:#news", channel_id="C1", channel_name="#news", text="Ads", created_by="U1", now=T0
    )
    react(store)
    store.record_serve_start("host:1:x", T0)
    store.cache_summary("ck", "m", {"headline": "H"}, T0)
    store.acquire_lock("serve", "host:1:x", 60, T0)


def _backends(request, tmp_path, pair) -> tuple[StateBackend, StateBackend]:
    return (
        make_backend(pair[0], request, tmp_path / "one"),
        make_backend(pair[1], request, tmp_path / "two"),
    )


@pytest.mark.parametrize("pair", PAIRS, ids=["-to-".join(p) for p in PAIRS])
def test_every_row_moves_between_backends(request, tmp_path, pair):
    source, target = _backends(request, tmp_path, pair)
    try:
        old = source.open()
        _fill(old)
        exported = list(old.export_state())
        new = target.open()
        counts = new.import_state(json.loads(json.dumps(exported)), "dump.jsonl")
        assert counts["deliveries"] == 1 and counts["cluster_features"] == 1
        assert "locks" not in counts  # a lease belongs to the old deployment's processes
        assert list(new.export_state())[1:] == exported[1:]
        assert new.is_delivered("slack:#news", "s1")
        [intent] = new.open_intents("email:a@x.example")
        assert intent.story_ids == ("s1",)
        [w] = new.load_window(T0, T0)
        assert (w.vector, w.minhash) == (b"\x00\xff" * 4, b"\x01sig")
        assert new.lock_owner("serve", T0) is None
        # Numbering goes on after the imported rows.
        assert new.start_run("world", "p2", T0) > old.last_run("world").id
        later = new.add_follow(
            "slack:#news",
            channel_id="C1",
            channel_name="#news",
            text="x",
            rule={},
            created_by="U1",
            now=T0,
        )
        assert later.id > max(f.id for f in old.follows())
    finally:
        source.close_all()
        target.close_all()


def test_import_refuses_a_state_in_use_and_a_bad_line(state: Store):
    _fill(state)
    exported = list(state.export_state())
    with pytest.raises(StateError, match="not empty"):
        state.import_state(exported, "dump.jsonl")


def test_import_names_the_line_that_does_not_fit(state: Store):
    header = {
        "format": "digest-state",
        "version": 1,
        "migrations": [m.__name__ for m in MIGRATIONS],
    }
    with pytest.raises(StateError, match=r"dump.jsonl:2: deliveries has no column colour"):
        state.import_state(
            [header, {"table": "deliveries", "row": {"colour": "red"}}], "dump.jsonl"
        )
    with pytest.raises(StateError, match="dump.jsonl:1: not a digest state export"):
        state.import_state([{"table": "feeds", "row": {}}], "dump.jsonl")
    newer = {**header, "migrations": [*header["migrations"], "m999_future"]}
    with pytest.raises(StateError, match="newer or different version"):
        state.import_state([newer], "dump.jsonl")
    assert state.ledger() == []  # nothing half-imported


# --- the commands, end to end: after an import nothing delivered goes out again ---------------


def _config(tmp_path: Path, feeds: list[str], channel: str) -> Path:
    path = tmp_path / "config.toml"
    feed_list = ", ".join(f'{{ url = "{u}" }}' for u in feeds)
    path.write_text(
        f"""
state_dir = "{tmp_path / "files"}"
[fetch]
allow_private_addresses = true
[summarizer]
backend = "extractive"
[cluster]
enabled = false
[[digest]]
name = "world"
feeds = [{feed_list}]
destinations = [{{ type = "slack", channel = "{channel}", token_env = "X" }}]
"""
    )
    return path


def _run(config, backend: StateBackend, notifier):
    from test_pipeline import NOW

    from digest.app import build_app
    from digest.config import load_config
    from digest.embed import HashingEmbedder
    from digest.pipeline import run_digest
    from digest.summarize import ExtractiveSummarizer

    cfg = load_config(config)
    store = backend.open()
    app = build_app(
        cfg,
        clock=lambda: NOW,
        store=store,
        summarizer=ExtractiveSummarizer(),
        embedder=HashingEmbedder(),
        notifier_factory=lambda dest: notifier,
    )
    try:
        return run_digest(app, cfg.digest[0])
    finally:
        app.close()


def _cli(args: list[str], backend: StateBackend) -> str:
    extra, env = backend.cli_args()
    result = CliRunner().invoke(main, [*args[:2], *extra, *args[2:]], env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "pair",
    [("sqlite", "postgres"), ("postgres", "sqlite")],
    ids=["sqlite-to-postgres", "postgres-to-sqlite"],
)
def test_after_an_import_nothing_delivered_is_delivered_again(request, tmp_path, pair):
    from test_pipeline import NOW

    from digest.deliver.local import MemoryNotifier
    from digest.demo import serve_sample

    source, target = _backends(request, tmp_path, pair)
    spare = make_backend("sqlite", request, tmp_path / "spare")
    try:
        with serve_sample(NOW) as (_, feeds):
            config = _config(tmp_path, feeds, "#x")
            first = MemoryNotifier("x")
            _run(config, source, first)
            assert first.story_ids, "the first run delivered something"
            dump = tmp_path / "dump.jsonl"
            _cli(["state", "export", "-o", str(dump), "--config", str(config)], source)
            out = _cli(["state", "import", str(dump), "--config", str(config)], target)
            assert "imported" in out and "deliveries" in out
            again = MemoryNotifier("x")
            _run(config, target, again)
            assert again.story_ids == []  # the ledger came along: nothing sent twice

            # Without the ledger the same stories would go out again (what the test guards).
            lines = [ln for ln in dump.read_text().splitlines() if '"table":"deliveries"' not in ln]
            bare = tmp_path / "bare.jsonl"
            bare.write_text("\n".join(lines) + "\n")
            _cli(["state", "import", str(bare), "--config", str(config)], spare)
            resent = MemoryNotifier("x")
            _run(config, spare, resent)
            assert sorted(resent.story_ids) == sorted(first.story_ids)
    finally:
        for b in (source, target, spare):
            b.close_all()


def test_migrate_applies_and_reports(state_backend: StateBackend, tmp_path):
    store = state_backend.open()
    store.close()
    extra, env = state_backend.cli_args()
    result = CliRunner().invoke(main, ["migrate", *extra], env=env)
    assert result.exit_code == 0, result.output
    assert f"{len(MIGRATIONS)} migrations, 0 applied now" in result.output


def test_the_state_url_chooses_postgres_and_the_environment_wins(monkeypatch, tmp_path):
    from digest.app import state_location
    from digest.config import parse_config
    from digest.errors import ConfigError

    with pytest.raises(ConfigError, match="state_url"):
        parse_config({"state_url": "mysql://db/x"}, "bad.toml")
    monkeypatch.delenv("DIGEST_DATABASE_URL", raising=False)
    config = parse_config({"state_dir": str(tmp_path), "state_url": "postgresql://a@db/x"})
    assert state_location(config) == "postgresql://a@db/x"
    assert state_location(parse_config({"state_dir": str(tmp_path)})) == tmp_path
    monkeypatch.setenv("DIGEST_DATABASE_URL", "postgresql://b@db/y")
    assert state_location(config) == "postgresql://b@db/y"

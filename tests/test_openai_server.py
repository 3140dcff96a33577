"""`[summarizer] backend = "openai"` against a real server: llama.cpp (llama-cpp-python's server)
serving the packaged Gemma GGUF on 127.0.0.1. Faults (5xx, 429, slowness) are injected by a
loopback proxy in front of it (tests/llama_server.py); every other answer is the server's.

Skips in one line where llama-cpp-python[server] is not installed; .ci/run builds it and runs
this file again.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from llama_server import (
    MODEL_ALIAS,
    NOW,
    SKIP_REASON,
    FaultProxy,
    down_url,
    fixture_stories,
    gemma_gguf,
    llama_cpp_available,
    llama_server,
    sample_digest,
)
from twins import sends

if not llama_cpp_available():
    pytest.skip(SKIP_REASON, allow_module_level=True)

from digest.config import SummarizerSettings  # noqa: E402
from digest.demo import serve_sample  # noqa: E402
from digest.summarize import ModelSummarizer  # noqa: E402
from digest.summarize.grounding import SourceIndex, ungrounded_in_text  # noqa: E402
from digest.summarize.labels import GENERIC_LABELS, label_problems  # noqa: E402
from digest.summarize.server import OpenAISummarizer  # noqa: E402

pytestmark = pytest.mark.slow

NAME = f"openai:{MODEL_ALIAS}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("llama")
    with llama_server(gemma_gguf(folder), log=folder / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = os.environ.get("DIGEST_MODEL_CACHE")
    return Path(env) if env else tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def local(model_cache: Path) -> list:
    """The in-process model's Quick Looks of `fixture_stories()`: what the server's are held to."""
    return ModelSummarizer(SummarizerSettings(), model_cache).summarize(fixture_stories())


def _settings(url: str, **kw) -> SummarizerSettings:
    base = {"backend": "openai", "base_url": url, "model": MODEL_ALIAS, "label_scoring": "grammar"}
    return SummarizerSettings(**{**base, **kw})


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _labels_hold(q, articles, local=None) -> None:
    """Every label passes the checks the in-process labels pass (test_summarize_model), or is
    a last resort: a generic label, or the rule label the in-process summary fell back to."""
    outlets = {a.outlet for a in articles}
    taken: list[str] = []
    for i, b in enumerate(q.bullets):
        faults = label_problems(b.label, b.text, outlets=outlets, taken=taken)
        if not set(faults) <= {"is_topic_only"}:  # the documented last resort, as in-process
            same = local is not None and b.label == local.bullets[i].label
            assert b.label in GENERIC_LABELS or same, (b, faults)
        taken.append(b.label)


def _digest(tmp_path: Path, feeds: list[str], summarizer: dict, name: str):
    result, slack = sample_digest(tmp_path / name, feeds, summarizer)
    assert not result.failed and sends(slack)
    return result


def test_digest_through_the_server_equals_the_in_process_one(
    server: str, model_cache: Path, tmp_path: Path, caplog
):
    cache = str(model_cache)
    with serve_sample(NOW) as (_, feeds):
        local = _digest(tmp_path, feeds, {"cache_dir": cache}, "local")
        with caplog.at_level(logging.WARNING):
            remote = _digest(
                tmp_path,
                feeds,
                {"cache_dir": cache, **_settings(server).model_dump(exclude_defaults=True)},
                "remote",
            )
    assert _warnings(caplog) == []
    a, b = local.digest.stories, remote.digest.stories
    assert [ds.story.id for ds in a] == [ds.story.id for ds in b]
    for x, y in zip(a, b, strict=True):
        assert y.quick_looks.headline == x.quick_looks.headline
        assert [(q.text, q.sources) for q in y.quick_looks.bullets] == [
            (q.text, q.sources) for q in x.quick_looks.bullets
        ]
        assert y.quick_looks.model == NAME  # labelled through the server, no fallback
        _labels_hold(y.quick_looks, y.story.articles, x.quick_looks)


def test_generate_scoring_labels_pass_the_checks(server: str, local: list, tmp_path: Path, caplog):
    stories = fixture_stories()
    with caplog.at_level(logging.WARNING):
        got = OpenAISummarizer(_settings(server, label_scoring="generate"), tmp_path).summarize(
            stories
        )
    assert _warnings(caplog) == []
    for q, x, articles in zip(got, local, stories, strict=True):
        assert q.model == NAME
        assert [b.text for b in q.bullets] == [b.text for b in x.bullets]
        _labels_hold(q, articles, x)


def test_rewrites_are_grounded_or_the_source_sentence_stays(
    server: str, local: list, tmp_path: Path
):
    stories = fixture_stories()
    plain = local
    with FaultProxy(server) as proxy:
        got = OpenAISummarizer(_settings(proxy.url, rewrite=True), tmp_path).summarize(stories)
    assert len([s for s in proxy.seen if s[2] == 200]) > sum(len(q.bullets) for q in got)
    for q, p, articles in zip(got, plain, stories, strict=True):
        index = SourceIndex.build([a.title for a in articles] + [a.text for a in articles])
        assert q.model == NAME and len(q.bullets) == len(p.bullets)
        for new, old in zip(q.bullets, p.bullets, strict=True):
            assert new.sources == old.sources
            if new.text != old.text:  # a rewrite was kept: it passed the grounding check
                assert ungrounded_in_text(new.text, index) == [], new.text
                assert len(new.text.split()) <= len(old.text.split()) + 2


def test_server_down_gives_the_in_process_summary(model_cache: Path, local: list, caplog):
    url = down_url()
    stories = fixture_stories()
    plain = local
    with caplog.at_level(logging.WARNING):
        got = OpenAISummarizer(_settings(url, retries=0), model_cache).summarize(stories)
    [line] = _warnings(caplog)
    assert url in line and "cannot connect" in line
    assert got == plain  # labels too: the fallback is the in-process model itself


def test_slow_server_times_out_and_falls_back(server: str, local: list, tmp_path: Path, caplog):
    stories = fixture_stories()[1:]
    with FaultProxy(server) as proxy:
        proxy.delay = 3.0
        settings = _settings(proxy.url, timeout_seconds=0.5, retries=0, fallback="rules")
        with caplog.at_level(logging.WARNING):
            [q] = OpenAISummarizer(settings, tmp_path).summarize(stories)
    [line] = _warnings(caplog)
    assert proxy.url in line and "no answer within 0.5 s" in line
    assert q.model == "rules"
    assert [(b.text, b.sources) for b in q.bullets] == [
        (b.text, b.sources) for b in local[1].bullets
    ]


def test_retries_with_backoff_on_5xx_and_429(server: str, tmp_path: Path, caplog):
    stories = fixture_stories()[1:]
    with FaultProxy(server) as proxy:
        proxy.inject(503, 429)
        with caplog.at_level(logging.WARNING):
            [q] = OpenAISummarizer(_settings(proxy.url, retries=2), tmp_path).summarize(stories)
        seen = list(proxy.seen)
    assert _warnings(caplog) == []
    assert q.model == NAME  # the third attempt reached the server
    assert [s[2] for s in seen[:3]] == [503, 429, 200]
    # Backoff: the client waited before each retry, and honoured the 429's Retry-After: 1.
    assert seen[1][0] - seen[0][0] >= 0.3
    assert seen[2][0] - seen[1][0] >= 0.9


def test_retries_exhausted_fall_back_with_the_status(server: str, tmp_path: Path, caplog):
    stories = fixture_stories()[1:]
    with FaultProxy(server) as proxy:
        proxy.inject(503, 503)
        settings = _settings(proxy.url, retries=1, fallback="rules")
        with caplog.at_level(logging.WARNING):
            [q] = OpenAISummarizer(settings, tmp_path).summarize(stories)
    [line] = _warnings(caplog)
    assert proxy.url in line and "HTTP 503" in line
    assert q.model == "rules"
    assert [s[2] for s in proxy.seen[:2]] == [503, 503]

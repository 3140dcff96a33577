"""`backend = "openai"` without a server: the config, check-config's secret line, and the
fallbacks when the server is down (a loopback port that nothing listens on, for real).

The tests against a real server (llama.cpp) are in test_openai_server.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from llama_server import NOW, down_url, fixture_stories, sample_digest
from twins import sends

from digest.config import EmbedderSettings, SummarizerSettings, parse_config, secret_problems
from digest.demo import serve_sample
from digest.embed import HashingEmbedder, MiniLMEmbedder, embedder_for
from digest.errors import ConfigError
from digest.inference import OpenAIEmbedder
from digest.summarize import ExtractiveSummarizer, build_summarizer
from digest.summarize.labels import label_problems
from digest.summarize.parse import parsed_labels
from digest.summarize.server import OpenAISummarizer


def _warnings(caplog: pytest.LogCaptureFixture, url: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and url in r.getMessage()
    ]


def test_openai_backend_needs_a_base_url():
    with pytest.raises(ConfigError) as e:
        parse_config({"summarizer": {"backend": "openai"}}, "c.toml")
    assert str(e.value).startswith("c.toml: summarizer: ")
    assert "base_url" in str(e.value)
    with pytest.raises(ConfigError) as e:
        parse_config({"embedder": {"backend": "openai", "base_url": "ftp://x/v1"}}, "c.toml")
    assert "c.toml: embedder.base_url: must be an http(s) URL" in str(e.value)


def test_check_config_names_an_unset_api_key(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("DIGEST_TEST_LLM_KEY", raising=False)
    server = {"backend": "openai", "base_url": "http://127.0.0.1:1/v1"}
    config = parse_config(
        {
            "summarizer": {**server, "api_key_env": "DIGEST_TEST_LLM_KEY"},
            "embedder": {**server, "api_key_env": "DIGEST_TEST_LLM_KEY"},
        },
        "c.toml",
    )
    assert secret_problems(config) == [
        "c.toml: summarizer.api_key_env: environment variable DIGEST_TEST_LLM_KEY is not set",
        "c.toml: embedder.api_key_env: environment variable DIGEST_TEST_LLM_KEY is not set",
    ]
    monkeypatch.setenv("DIGEST_TEST_LLM_KEY", "k")
    assert secret_problems(config) == []
    # Without backend = "openai" the key is not needed.
    assert secret_problems(parse_config({"summarizer": {"api_key_env": "NOPE_X"}}, "c.toml")) == []


def test_the_config_builds_the_server_backends(tmp_path: Path):
    url = down_url()
    s = build_summarizer(
        SummarizerSettings(backend="openai", base_url=url, model="m"), tmp_path, embedder=None
    )
    assert isinstance(s, OpenAISummarizer) and s.name == "openai:m" and s.url == url
    e = embedder_for(EmbedderSettings(backend="openai", base_url=url, model="e"))
    assert isinstance(e, OpenAIEmbedder) and e.name == "openai:e"
    assert isinstance(e.fallback, MiniLMEmbedder)
    assert isinstance(embedder_for(EmbedderSettings()), MiniLMEmbedder)


def test_server_down_costs_labels_not_the_summary(tmp_path: Path, caplog):
    url = down_url()
    settings = SummarizerSettings(
        backend="openai", base_url=url, retries=1, fallback="rules", rewrite=True
    )
    stories = fixture_stories()
    with caplog.at_level(logging.WARNING):
        got = OpenAISummarizer(settings, tmp_path).summarize(stories)
    [line] = _warnings(caplog, url)  # one line for the whole call, naming URL and reason
    assert "cannot connect" in line and "labels from rules" in line
    baseline = ExtractiveSummarizer().summarize(stories)
    for q, b, articles in zip(got, baseline, stories, strict=True):
        assert q.model == "rules"  # said so, and never cached as the server's
        assert [(x.text, x.sources) for x in q.bullets] == [(x.text, x.sources) for x in b.bullets]
        outlets = {a.outlet for a in articles}
        taken: list[str] = []
        for bullet in q.bullets:  # every fallback label is a checked candidate
            faults = label_problems(
                bullet.label,
                bullet.text,
                outlets=outlets,
                taken=taken,
                parsed=bullet.label in parsed_labels(bullet.text),
            )
            assert set(faults) <= {"is_topic_only"}, bullet  # as test_summarize_model's
            taken.append(bullet.label)


def test_embedder_falls_back_for_good_when_the_server_is_down(caplog):
    url = down_url()
    twin = HashingEmbedder()
    embedder = OpenAIEmbedder(
        EmbedderSettings(backend="openai", base_url=url, retries=0), fallback=twin
    )
    texts = ["Flood waters rise in the valley", "", "Rates go up again"]
    with caplog.at_level(logging.WARNING):
        first = embedder.embed(texts)
        second = embedder.embed(texts[:1])
    assert len(_warnings(caplog, url)) == 1
    assert embedder.name == twin.name  # stored vectors are labelled with the model made them
    np.testing.assert_array_equal(first, twin.embed(texts))
    np.testing.assert_array_equal(second, twin.embed(texts[:1]))


@pytest.mark.slow  # the bullets' compressor is MiniLM's, as in-process
def test_digest_is_delivered_with_the_server_down(tmp_path: Path, caplog):
    url = down_url()
    summarizer = {"backend": "openai", "base_url": url, "retries": 0, "fallback": "rules"}
    with serve_sample(NOW) as (_, feeds), caplog.at_level(logging.WARNING):
        result, slack = sample_digest(tmp_path, feeds, summarizer, embedder=HashingEmbedder())
    assert not result.failed and result.digest.stories
    assert sends(slack) == [tuple(ds.story.id for ds in result.digest.stories)]
    assert len(_warnings(caplog, url)) == 1
    assert {ds.quick_looks.model for ds in result.digest.stories} == {"rules"}

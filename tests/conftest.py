"""Shared test set-up: every test is offline; model hubs are never reached."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

# Real PostgreSQL and Redis servers for the tests that need them (tests/servers.py).
pytest_plugins = ["servers", "state_backends"]


@pytest.fixture(autouse=True)
def _real_models_only_in_slow_tests(request: pytest.FixtureRequest, monkeypatch):
    """A test that loads a real model (MiniLM, Gemma) in this process must be marked `slow`, so
    that `make test` (`-m "not slow"`) never needs one. A missing model still reports as usual.
    """
    if request.node.get_closest_marker("slow"):
        return
    from digest.embed import MiniLMEmbedder
    from digest.summarize import models

    def refuse(what: str) -> None:
        pytest.fail(f"{request.node.nodeid} loads {what}: mark it @pytest.mark.slow", False)

    load_minilm = MiniLMEmbedder._load

    def minilm(self: MiniLMEmbedder) -> None:
        if self._model is None and (self._resolve_path() / "config.json").is_file():
            refuse("the real MiniLM")
        load_minilm(self)

    monkeypatch.setattr(MiniLMEmbedder, "_load", minilm)
    monkeypatch.setattr(models, "load_default_model", lambda *a, **k: refuse("Gemma 3 270M"))

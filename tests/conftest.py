"""Shared test set-up: every test is offline; model hubs are never reached."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# Real PostgreSQL and Redis servers for the tests that need them (tests/servers.py).
pytest_plugins = ["servers"]

"""Config: every problem is one line naming the file, key path and what is wrong."""

from pathlib import Path

import pytest

from digest.config import adhoc_config, load_config, parse_config, secret_from_env
from digest.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]

GOOD = """
state_dir = "state"

[fetch]
timeout_seconds = 20
allow_private_addresses = false

[smtp]
host = "smtp.example.com"
port = 587
security = "starttls"
username = "digest@example.com"
password_env = "SMTP_PASSWORD"
from = "News Digest <digest@example.com>"

[[digest]]
name = "world"
schedule = "0 7 * * *"
timezone = "Europe/London"
max_stories = 20
feeds = [
  { url = "https://example.com/world/rss.xml", name = "Example World", priority = 1 },
]
destinations = [
  { type = "slack", channel = "#news", token_env = "SLACK_BOT_TOKEN" },
  { type = "slack_webhook", url_env = "SLACK_WEBHOOK_URL" },
  { type = "email", to = ["team@example.com"] },
]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_issue_example_config_loads(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    d = config.get_digest("world")
    assert [f.url for f in d.feeds] == ["https://example.com/world/rss.xml"]
    assert [dest.key for dest in d.destinations] == [
        "slack:#news",
        "slack_webhook:SLACK_WEBHOOK_URL",
        "email:team@example.com",
    ]
    assert config.smtp is not None and config.smtp.from_ == "News Digest <digest@example.com>"
    assert config.resolve_path(config.state_dir) == tmp_path / "state"


def test_shipped_config_is_valid_and_has_no_credentials():
    config = load_config(REPO / "config.toml")
    assert config.digest and all(d.feeds for d in config.digest)
    text = (REPO / "config.toml").read_text()
    assert "xoxb-" not in text and "password =" not in text


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("[fetch]\ntimeout_secondz = 3\n", "config.toml: fetch.timeout_secondz: unknown key"),
        ("[fetch]\ntimeout_seconds = -1\n", "config.toml: fetch.timeout_seconds: "),
        (
            '[[digest]]\nname = "w"\ntimezone = "Mars/Base"\nfeeds = [{url = "https://a.b/f"}]\n',
            "config.toml: digest[0].timezone: unknown IANA time zone 'Mars/Base'",
        ),
        (
            '[[digest]]\nname = "w"\nfeeds = [{url = "ftp://a.b/f"}]\n',
            "config.toml: digest[0].feeds[0].url: must be an http(s) URL, got 'ftp://a.b/f'",
        ),
        (
            '[[digest]]\nname = "w"\nschedule = "every day"\nfeeds = [{url = "https://a.b/f"}]\n',
            "config.toml: digest[0].schedule: not a 5-field cron expression",
        ),
        (
            '[[digest]]\nname = "w"\nfeeds = [{url = "https://a.b/f"}]\n'
            'destinations = [{type = "email", to = ["x@y.z"]}]\n',
            "there is no [smtp] table",
        ),
        ('[[digest]]\nname = "w"\nfeeds = []\n', "config.toml: digest[0].feeds: "),
        ("state_dir = \n", "not valid TOML"),
    ],
)
def test_errors_name_file_and_key(tmp_path, snippet, expected):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, snippet))
    assert expected in str(info.value)
    for line in str(info.value).splitlines():
        assert line.startswith(str(tmp_path / "config.toml"))


def test_every_problem_is_reported_at_once(tmp_path):
    text = (
        '[fetch]\nbogus = 1\n[[digest]]\nname = "w"\ntimezone = "X/Y"\nfeeds = [{url = "nope"}]\n'
    )
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    lines = str(info.value).splitlines()
    assert len(lines) == 3


def test_missing_file_is_one_line_with_hint(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "absent.toml")
    assert "config file not found" in str(info.value)
    assert info.value.hint


def test_duplicate_digest_names_rejected():
    with pytest.raises(ConfigError, match="repeated: w"):
        parse_config({"digest": [{"name": "w", "feeds": [{"url": "https://a.b/"}]}] * 2}, "c.toml")


def test_unknown_digest_lists_known_names(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match=r"no digest named 'sport' \(known: world\)"):
        config.get_digest("sport")


def test_adhoc_config_has_one_digest_without_destinations():
    config = adhoc_config(["https://a.example/feed", "https://b.example/rss"])
    (d,) = config.digest
    assert d.name == "adhoc" and not d.destinations
    assert [f.url for f in d.feeds] == ["https://a.example/feed", "https://b.example/rss"]
    with pytest.raises(ConfigError, match="must be an http"):
        adhoc_config(["javascript:alert(1)"])


def test_secret_from_env(monkeypatch):
    monkeypatch.setenv("DIGEST_TEST_TOKEN", "s3cret")
    assert secret_from_env("DIGEST_TEST_TOKEN", "slack:#news") == "s3cret"
    monkeypatch.delenv("DIGEST_TEST_TOKEN")
    with pytest.raises(ConfigError, match="DIGEST_TEST_TOKEN is not set"):
        secret_from_env("DIGEST_TEST_TOKEN", "slack:#news")
    assert secret_from_env(None, "x") is None

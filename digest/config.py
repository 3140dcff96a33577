"""Read `config.toml` into validated, typed settings.

Every problem is reported as one line naming the file, the key path and what is wrong, e.g.
`config.toml: digest[0].feeds[1].url: must be an http(s) URL, got 'ftp://x'`.
"""

from __future__ import annotations

import os
import re
import tomllib
import zoneinfo
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .cron import check_schedule
from .errors import ConfigError

DEFAULT_USER_AGENT = "digest/0.1 (+https://github.com/digest-bot/digest; news digest bot)"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an http(s) URL, got {value!r}")
    return value


class FetchSettings(_Model):
    timeout_seconds: float = Field(20, gt=0, le=600)
    connect_timeout_seconds: float = Field(10, gt=0, le=600)
    max_bytes: int = Field(5_000_000, gt=0)
    max_redirects: int = Field(5, ge=0, le=20)
    concurrency: int = Field(8, ge=1, le=64)
    user_agent: str = DEFAULT_USER_AGENT
    allow_private_addresses: bool = False
    # A feed of 20,000 teasers must not turn into 20,000 page fetches: the newest N are read.
    max_items_per_feed: int = Field(100, ge=1, le=100_000)
    # Article pages fetched per run, newest items first; the rest wait for the next run.
    max_page_fetches_per_run: int = Field(300, ge=0, le=100_000)


class ExtractSettings(_Model):
    fetch_pages: bool = True
    # A feed entry with fewer words than this is a teaser: the article page is fetched.
    teaser_words: int = Field(150, ge=0)
    # Measured on the page fixtures (eval/extraction.py): default mode F1 0.978 vs 0.969.
    favor_precision: bool = False
    # Worker processes for extracting many pages: 0 = one per CPU (at most 4), 1 = none.
    processes: int = Field(0, ge=0, le=32)


class _ServerSettings(_Model):
    """An OpenAI-compatible inference server (backend = "openai"; see digest.inference)."""

    base_url: str | None = None  # e.g. http://localhost:8000/v1 (vLLM); README lists others
    api_key_env: str | None = None  # the variable holding the key; unset: no key is sent
    timeout_seconds: float = Field(30, gt=0, le=600)
    connect_timeout_seconds: float = Field(5, gt=0, le=600)
    retries: int = Field(2, ge=0, le=10)  # on 408/409/429/5xx and lost connections, with backoff
    concurrency: int = Field(4, ge=1, le=64)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _check_http_url(value) if value is not None else None

    def _needs_url(self, backend: str) -> None:
        if backend == "openai" and not self.base_url:
            raise ValueError('backend = "openai" needs base_url (e.g. http://localhost:8000/v1)')


class SummarizerSettings(_ServerSettings):
    # "gemma-3-270m" is the packaged default; anything else is a Hugging Face id or local path.
    # With backend = "openai", `model` is the name the server knows the model by.
    backend: Literal["model", "extractive", "openai"] = "model"
    model: str = "gemma-3-270m"
    cache_dir: str | None = None  # default: $DIGEST_MODEL_CACHE, else ~/.cache/digest/models
    min_bullets: int = Field(3, ge=1, le=10)
    max_bullets: int = Field(5, ge=1, le=10)
    deep_look: bool = True
    rewrite: bool = False  # let a larger model rewrite sentences (still grounding-checked)
    # How a server picks labels among the checked candidates (digest.inference.openai).
    label_scoring: Literal["generate", "grammar", "logprobs"] = "generate"
    # When the server is down or slow: the packaged model in-process, or rule-based labels.
    fallback: Literal["local", "rules"] = "local"

    @model_validator(mode="after")
    def _bullets_in_order(self) -> SummarizerSettings:
        if self.min_bullets > self.max_bullets:
            raise ValueError("min_bullets must not exceed max_bullets")
        self._needs_url(self.backend)
        return self


class EmbedderSettings(_ServerSettings):
    """Sentence embeddings: the packaged MiniLM in-process, or a server's /v1/embeddings."""

    backend: Literal["minilm", "openai"] = "minilm"
    model: str = "all-MiniLM-L6-v2"  # with backend = "openai": the server's model name
    batch_size: int = Field(64, ge=1, le=2048)  # texts per request

    @model_validator(mode="after")
    def _url_given(self) -> EmbedderSettings:
        self._needs_url(self.backend)
        return self


class ClusterSettings(_Model):
    enabled: bool = True
    window_hours: float = Field(72, gt=0)
    updates: bool = True  # a delivered story may come back once as an Update with new facts


class SmtpSettings(_Model):
    host: str
    port: int = Field(587, gt=0, lt=65536)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    from_: str = Field(alias="from")
    timeout_seconds: float = Field(30, gt=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SlackSettings(_Model):
    # Override only for a Slack-compatible stand-in (tests) or an Enterprise Grid proxy.
    base_url: str = "https://slack.com/api/"
    max_retries: int = Field(3, ge=0, le=10)
    # The Slack app (digest.slackapp): Socket Mode connects when app_token_env is set.
    app_token_env: str | None = None
    bot_token_env: str = "SLACK_BOT_TOKEN"
    channels: list[str] = Field(default_factory=list)  # besides the digests' Slack channels
    like_reactions: list[str] = Field(default_factory=lambda: ["+1", "thumbsup"])
    dislike_reactions: list[str] = Field(default_factory=lambda: ["-1", "thumbsdown"])


# The shortest [web] secret_env value accepted: the key that signs unsubscribe links.
MIN_SECRET_LENGTH = 16


class WebSettings(_Model):
    """The web side (digest.web) and the links emails carry to it."""

    # The public address readers reach the web side at (behind a reverse proxy: its address).
    base_url: str
    secret_env: str = "DIGEST_UNSUBSCRIBE_SECRET"
    # Where the List-Unsubscribe mailto goes; default: the [smtp] from address.
    unsubscribe_mailto: str | None = None

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        parts = urlsplit(value)
        loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ValueError(f"must be an https URL (http only for localhost), got {value!r}")
        if not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"must be a plain https URL without query or fragment, got {value!r}")
        return value.rstrip("/")

    @field_validator("unsubscribe_mailto")
    @classmethod
    def _mailto(cls, value: str | None) -> str | None:
        if value is not None and ("@" not in value or any(c in value for c in "\r\n<>?")):
            raise ValueError(f"not an email address: {value!r}")
        return value


class ServeSettings(_Model):
    """`[serve]`: how `digest serve` (and `digest health`) behave; the scheduler reads it as is."""

    alert_interval_minutes: float = Field(10, gt=0, le=1440)
    # A period missed while serve was down runs on start if it is this recent.
    grace_minutes: float = Field(60, ge=0, le=10080)
    retry_minutes: float = Field(5, gt=0, le=1440)  # a failed period is retried after this
    max_attempts: int = Field(3, ge=1, le=20)  # per period, across restarts
    # How long the serve lease holds unrenewed (renewed every third of it): a standby replica
    # replaces a serve that died within it. lock_ttl_seconds is its older name.
    lease_seconds: float = Field(15, ge=1, le=3600)
    lock_ttl_seconds: float | None = Field(None, ge=1, le=3600)
    health_margin_minutes: float = Field(30, gt=0, le=10080)
    standby: bool = False  # wait for the lease when another serve holds it, instead of refusing

    @property
    def alert_interval(self) -> timedelta:
        """Between two alert polls."""
        return timedelta(minutes=self.alert_interval_minutes)

    @property
    def grace(self) -> timedelta:
        """How old a missed period may be and still run."""
        return timedelta(minutes=self.grace_minutes)

    @property
    def retry_after(self) -> timedelta:
        """How long after a failure a period is tried again."""
        return timedelta(minutes=self.retry_minutes)

    @property
    def lock_ttl(self) -> timedelta:
        """How long the serve lease holds without a renewal."""
        if self.lock_ttl_seconds is not None and "lease_seconds" not in self.model_fields_set:
            return timedelta(seconds=self.lock_ttl_seconds)
        return timedelta(seconds=self.lease_seconds)

    @property
    def health_margin(self) -> timedelta:
        """How late a scheduled run may finish before `digest health` calls it overdue."""
        return timedelta(minutes=self.health_margin_minutes)


class RuntimeSettings(_Model):
    # CPUs to size torch and the worker pools for; 0 = what this process may use (affinity and
    # cgroup quota, see digest.runtime).
    threads: int = Field(0, ge=0, le=256)


class QueueSettings(_Model):
    # A Redis URL (redis://host:6379/0) sends page fetch+extract, embedding and summarising to
    # `digest worker` processes through Dramatiq; none (the default) runs them in this process.
    # DIGEST_QUEUE_URL overrides it (a password belongs in the environment, not in the file).
    url: str | None = None
    namespace: str = Field("digest", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    # How long a run waits for one stage's tasks; a task not back by then costs its item only.
    timeout_seconds: float = Field(600, gt=0, le=86_400)
    # A worker that has not polled Redis for this long is dead: its unfinished tasks go back
    # on the queue (Dramatiq's heartbeat timeout). Too short and a busy worker is taken for
    # dead, so its tasks run twice (harmless, they are idempotent, but wasted).
    heartbeat_seconds: float = Field(30, ge=1, le=3600)

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"must be a redis://, rediss:// or unix:// URL, got {value!r}")
        return value


class OutputSettings(_Model):
    # Where the HTML copy of a digest is written when it has no destination.
    html_dir: str = "."


class FeedConfig(_Model):
    url: str
    name: str | None = None
    priority: int = 0

    _url = field_validator("url")(classmethod(lambda cls, v: _check_http_url(v)))


class SlackDestination(_Model):
    type: Literal["slack"]
    channel: str
    token_env: str = "SLACK_BOT_TOKEN"

    @property
    def key(self) -> str:
        return f"slack:{self.channel}"


class SlackWebhookDestination(_Model):
    type: Literal["slack_webhook"]
    url_env: str = "SLACK_WEBHOOK_URL"

    @property
    def key(self) -> str:
        return f"slack_webhook:{self.url_env}"


# What an email subject template may use (digest.render.render_subject passes these).
SUBJECT_VARIABLES = frozenset({"digest", "title", "date", "count", "count_label"})


class EmailDestination(_Model):
    type: Literal["email"]
    # May be empty when the subscribers live in the state (`digest subscribers add`).
    to: list[str] = Field(default_factory=list)
    subject: str = "{{ title }}: {{ count_label }}"

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address or any(c in address for c in "\r\n"):
                raise ValueError(f"not an email address: {address!r}")
        return value

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        # Checked here, not first at send time, so the error names the file and key.
        import jinja2
        import jinja2.meta
        import jinja2.sandbox

        try:
            ast = jinja2.sandbox.SandboxedEnvironment().parse(value)
        except jinja2.TemplateSyntaxError as e:
            raise ValueError(f"not a valid template: {e.message}") from None
        unknown = sorted(jinja2.meta.find_undeclared_variables(ast) - SUBJECT_VARIABLES)
        if unknown:
            known = ", ".join(sorted(SUBJECT_VARIABLES))
            raise ValueError(f"unknown variable {unknown[0]!r} (known: {known})")
        return value

    @property
    def key(self) -> str:
        return "email:" + ",".join(sorted(self.to))


def _known_time_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r}") from None
    return value


TimeZoneName = Annotated[str, AfterValidator(_known_time_zone)]
"""An IANA time zone name ("Europe/London"), checked when the config loads."""

Destination = Annotated[
    SlackDestination | SlackWebhookDestination | EmailDestination, Field(discriminator="type")
]

_CRON_FIELD = re.compile(r"^[\d\*/,\-A-Za-z?]+$")


class DigestConfig(_Model):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    schedule: str = "0 7 * * *"
    timezone: TimeZoneName = "UTC"
    max_stories: int = Field(20, ge=1, le=500)
    send_empty: bool = False
    feeds: list[FeedConfig] = Field(min_length=1)
    destinations: list[Destination] = Field(default_factory=list)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        fields = value.split()
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
            raise ValueError(
                f"not a 5-field cron expression (minute hour day month weekday): {value!r}"
            )
        # serve's own parser (APScheduler's CronTrigger); raises ValueError naming the field
        check_schedule(value)
        return value


# --- alert rules: `[[alert]]` tables, matched by digest.alerts -------------------------------


def _nonblank(values: list[str]) -> list[str]:
    for value in values:
        if not value.strip():
            raise ValueError("keywords must not be blank")
    return values


class Keywords(_Model):
    """Words or phrases; `all` must each appear, `any` at least one, `none` not one."""

    all: list[str] = Field(default_factory=list)
    any: list[str] = Field(default_factory=list)
    none: list[str] = Field(default_factory=list)

    _check = field_validator("all", "any", "none")(classmethod(lambda cls, v: _nonblank(v)))

    @model_validator(mode="after")
    def _something(self) -> Keywords:
        if not (self.all or self.any or self.none):
            raise ValueError("set at least one of all, any, none")
        return self


class Semantic(_Model):
    """A sentence; a story matches when its embedding is at least `threshold` similar."""

    query: str = Field(min_length=1)
    threshold: float = Field(0.5, gt=0, le=1)


class Breaking(_Model):
    """A story reported by at least `outlets` outlets within the last `within_hours`."""

    outlets: int = Field(ge=2, le=100)
    within_hours: float = Field(gt=0, le=168)


_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _clock_time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class QuietHours(_Model):
    """Local hours when matches are held, then sent once the quiet ends (may span midnight)."""

    start: str
    end: str
    timezone: TimeZoneName = "UTC"

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"must be a time like 22:00, got {value!r}")
        return value

    @model_validator(mode="after")
    def _differ(self) -> QuietHours:
        if _clock_time(self.start) == _clock_time(self.end):
            raise ValueError("start and end must differ")
        return self

    def contains(self, when: datetime) -> bool:
        """Whether `when` falls in the quiet hours (start inclusive, end exclusive)."""
        local = when.astimezone(zoneinfo.ZoneInfo(self.timezone)).time().replace(tzinfo=None)
        start, end = _clock_time(self.start), _clock_time(self.end)
        if start < end:
            return start <= local < end
        return local >= start or local < end  # spans midnight


class AlertRule(_Model):
    """One `[[alert]]` table of the config."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    keywords: Keywords | None = None
    regex: str | None = None
    semantic: Semantic | None = None
    breaking: Breaking | None = None
    quiet_hours: QuietHours | None = None
    max_per_hour: int | None = Field(None, ge=1)
    # A story older than this (newest article) never alerts: alerts are for news, and a first
    # start on a full feed must not page anyone about last week.
    max_age_hours: float = Field(24, gt=0)
    feeds: Literal["all"] | Annotated[list[str], Field(min_length=1)] = "all"
    destinations: list[Destination] = Field(min_length=1)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value:
            raise ValueError("must not be empty")
        try:
            re.compile(value)
        except re.error as e:
            raise ValueError(f"not a valid regular expression: {e}") from None
        return value

    @model_validator(mode="after")
    def _has_condition(self) -> AlertRule:
        if not (self.keywords or self.regex or self.semantic or self.breaking):
            raise ValueError(
                "sets no condition: add keywords, regex, semantic or breaking "
                "(a rule without one would alert on every story)"
            )
        return self

    @property
    def kind(self) -> str:
        """The ledger kind of this rule's alerts."""
        return f"alert:{self.name}"


class Config(_Model):
    state_dir: str = "state"
    # A postgresql:// URL keeps the state in PostgreSQL (several replicas, one state); the
    # state folder then holds only the model cache. DIGEST_DATABASE_URL overrides it (a
    # password belongs in the environment, not in the file).
    state_url: str | None = None
    fetch: FetchSettings = FetchSettings()
    extract: ExtractSettings = ExtractSettings()
    summarizer: SummarizerSettings = SummarizerSettings()
    embedder: EmbedderSettings = EmbedderSettings()
    cluster: ClusterSettings = ClusterSettings()
    smtp: SmtpSettings | None = None
    slack: SlackSettings = SlackSettings()
    output: OutputSettings = OutputSettings()
    serve: ServeSettings = ServeSettings()
    runtime: RuntimeSettings = RuntimeSettings()
    queue: QueueSettings = QueueSettings()
    web: WebSettings | None = None
    digest: list[DigestConfig] = Field(default_factory=list)
    alert: list[AlertRule] = Field(default_factory=list)

    # Where the file was read from; relative paths in it are resolved against its folder.
    source: str = Field("<defaults>", exclude=True)

    @field_validator("state_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("postgresql", "postgres"):
            raise ValueError(f"must be a postgresql:// URL, got {value!r}")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        names = [d.name for d in self.digest]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"digest names must be unique, repeated: {', '.join(dupes)}")
        if self.smtp is None:
            for i, d in enumerate(self.digest):
                for j, dest in enumerate(d.destinations):
                    if dest.type == "email":
                        raise ValueError(
                            f"digest[{i}].destinations[{j}] is email but there is no [smtp] table"
                        )
        return self

    def get_digest(self, name: str) -> DigestConfig:
        """The digest called `name`, or a ConfigError listing the names there are."""
        for d in self.digest:
            if d.name == name:
                return d
        known = ", ".join(d.name for d in self.digest) or "none"
        raise ConfigError(f"{self.source}: no digest named {name!r} (known: {known})")

    def resolve_path(self, value: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        path = Path(value).expanduser()
        if path.is_absolute() or self.source == "<defaults>":
            return path
        return Path(self.source).resolve().parent / path


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("slack", "slack_webhook", "email") and out.endswith("]"):
            continue  # discriminated-union tag, not a key the user wrote
        else:
            out += ("." if out else "") + ("from" if part == "from_" else str(part))
    return out or "(top level)"


def format_validation_error(source: str, error: ValidationError) -> list[str]:
    """One line per problem: `file: key.path: what is wrong`."""
    lines = []
    for err in error.errors():
        msg = err["msg"]
        msg = msg.removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        lines.append(f"{source}: {_loc(tuple(err['loc']))}: {msg}")
    return lines


def parse_config(data: dict[str, Any], source: str = "<defaults>") -> Config:
    """Validate a parsed TOML document; raise ConfigError listing every problem."""
    try:
        config = Config.model_validate({**data, "source": source})
    except ValidationError as e:
        lines = format_validation_error(source, e)
        raise ConfigError("\n".join(lines)) from None
    problems = _alert_problems(config)
    if problems:
        raise ConfigError("\n".join(problems))
    return config


def _alert_problems(config: Config) -> list[str]:
    """What the alert rules get wrong about the rest of the config, one line per problem
    naming its key: a name used twice, a digest that is not there, email without [smtp]."""
    problems = []
    names = [r.name for r in config.alert]
    known = {d.name for d in config.digest}
    for i, rule in enumerate(config.alert):
        if names.index(rule.name) != i:
            problems.append(f"{config.source}: alert[{i}].name: {rule.name!r} is used twice")
        if rule.feeds != "all":
            for j, name in enumerate(rule.feeds):
                if name not in known:
                    problems.append(
                        f"{config.source}: alert[{i}].feeds[{j}]: no digest named {name!r} "
                        f"(known: {', '.join(sorted(known)) or 'none'})"
                    )
        for j, dest in enumerate(rule.destinations):
            if dest.type == "email" and config.smtp is None:
                problems.append(
                    f"{config.source}: alert[{i}].destinations[{j}]: is email but there is no "
                    "[smtp] table"
                )
    return problems


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a TOML config file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found", hint="pass --config PATH") from None
    except OSError as e:
        raise ConfigError(f"{p}: cannot read config file: {e.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: config file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: not valid TOML: {e}") from None
    return parse_config(data, str(p))


def adhoc_config(feed_urls: list[str], base: Config | None = None) -> Config:
    """A config with one digest named "adhoc" over the given feeds and no destinations."""
    for url in feed_urls:
        try:
            _check_http_url(url)
        except ValueError as e:
            raise ConfigError(
                f"--feed {url}: {e}",
                hint="give the feed's full address, e.g. --feed https://example.com/rss.xml",
            ) from None
    # Without the alert rules: they may name digests the adhoc config does not have.
    exclude = {"digest", "alert", "source"}
    data = base.model_dump(by_alias=True, exclude=exclude) if base else {}
    data["digest"] = [{"name": "adhoc", "feeds": [{"url": u} for u in feed_urls]}]
    return parse_config(data, base.source if base else "--feed")


def _destination_problems(config: Config, dest: Any, where: str) -> list[str]:
    """The missing or unusable secrets of one destination, one line each naming file and key."""
    src = config.source
    problems: list[str] = []

    def unset(env_name: str, key: str) -> None:
        problems.append(f"{src}: {key}: environment variable {env_name} is not set")

    if isinstance(dest, SlackDestination):
        if not dest.token_env:
            problems.append(f"{src}: {where}.token_env: is empty")
        elif not os.environ.get(dest.token_env):
            unset(dest.token_env, f"{where}.token_env")
    elif isinstance(dest, SlackWebhookDestination):
        value = os.environ.get(dest.url_env, "").strip() if dest.url_env else ""
        parts = urlsplit(value)
        if not value:
            unset(dest.url_env, f"{where}.url_env")
        elif parts.scheme not in ("http", "https") or not parts.netloc:
            # Never echo the value: a webhook URL is a secret.
            problems.append(
                f"{src}: {where}.url_env: environment variable {dest.url_env} does not hold an "
                "http(s) URL"
            )
    elif isinstance(dest, EmailDestination) and config.smtp is not None:
        if config.smtp.password_env and not os.environ.get(config.smtp.password_env):
            unset(config.smtp.password_env, "smtp.password_env")
        elif config.smtp.username and not config.smtp.password_env:
            problems.append(f"{src}: smtp.username: is set but smtp.password_env is not")
        problems += _web_secret_problems(config)
    return problems


def _web_secret_problems(config: Config) -> list[str]:
    """The unsubscribe secret emails sign their links with and `serve --http` checks them by."""
    if config.web is None or not config.web.secret_env:
        return []
    name = config.web.secret_env
    value = os.environ.get(name, "")
    if not value:
        return [f"{config.source}: web.secret_env: environment variable {name} is not set"]
    if len(value) < MIN_SECRET_LENGTH:
        return [
            f"{config.source}: web.secret_env: environment variable {name} holds "
            f"{len(value)} characters; use at least {MIN_SECRET_LENGTH}"
        ]
    return []


def secret_problems(
    config: Config, digests: list[str] | None = None, *, alerts: bool = True
) -> list[str]:
    """Every secret the destinations need that the environment does not hold, one line each.

    `digests` limits the check to the digests of that name; `alerts` adds the alert rules'
    destinations. Run before any fetching, so a missing token is found at once, not after
    all the work.
    """
    found: list[str] = []
    for i, d in enumerate(config.digest):
        if digests is None or d.name in digests:
            for j, dest in enumerate(d.destinations):
                found += _destination_problems(config, dest, f"digest[{i}].destinations[{j}]")
    if alerts:
        for i, rule in enumerate(config.alert):
            for j, dest in enumerate(rule.destinations):
                found += _destination_problems(config, dest, f"alert[{i}].destinations[{j}]")
    if digests is None:  # the whole config: `serve --http` needs the secret without email too
        found += _web_secret_problems(config)
    found += _inference_secret_problems(config)
    return list(dict.fromkeys(found))  # one line for a secret several destinations share


def _inference_secret_problems(config: Config) -> list[str]:
    """The API keys that [summarizer] and [embedder] name for their inference server."""
    found = []
    for key, section in (("summarizer", config.summarizer), ("embedder", config.embedder)):
        name = section.api_key_env
        if section.backend == "openai" and name and not os.environ.get(name):
            found.append(
                f"{config.source}: {key}.api_key_env: environment variable {name} is not set"
            )
    return found


def destination_key_path(config: Config, dest: Any) -> str:
    """Where a destination is in the config (`digest[0].destinations[1]`), for error lines."""
    places = [
        (f"digest[{i}].destinations[{j}]", other)
        for i, d in enumerate(config.digest)
        for j, other in enumerate(d.destinations)
    ]
    places += [
        (f"alert[{i}].destinations[{j}]", other)
        for i, rule in enumerate(config.alert)
        for j, other in enumerate(rule.destinations)
    ]
    # The very object first: two destinations may be equal (the same channel twice).
    for path, other in places:
        if other is dest:
            return path
    for path, other in places:
        if other == dest:
            return path
    return f"destination {dest.key}"


SECRET_HINT = "export the variables named above (secrets are never read from the config file)"


def secret_from_env(env_name: str | None, what: str) -> str | None:
    """Read a secret from the environment variable the config names; None when not named."""
    if not env_name:
        return None
    value = os.environ.get(env_name)
    if not value:
        raise ConfigError(
            f"{what}: environment variable {env_name} is not set",
            hint=f"export {env_name}=... (secrets are never read from the config file)",
        )
    return value

"""The Slack app: `/digest` slash commands and 👍/👎 reactions, over Socket Mode.

`digest serve` connects it when `[slack] app_token_env` names a variable holding an app-level
token (`xapp-…`, scope `connections:write`): slack-bolt's SocketModeHandler with slack-sdk's
built-in Socket Mode client opens a WebSocket from here to Slack (`apps.connections.open`), so
no public URL is needed. Replies and alerts use the bot token (`[slack] bot_token_env`).

    /digest follow <words or a sentence>   a channel-scoped alert rule (see digest.channels)
    /digest list                           config rules and followed topics of this channel
    /digest unfollow N                     forget followed topic N of the list
    /digest mute <outlet or words>         leave matching stories out of this channel's digests
    /digest unmute N                       forget mute N
    /digest now                            stories since the last digest, only to you
    /digest why <headline words or link>   why a posted story was merged and ranked so
    /digest forget                         clear this channel's reactions

Commands from a channel the config does not post to get a polite refusal. Every reply escapes
user and feed text for mrkdwn (`&`, `<`, `>`) as the digest does, so nothing in it can ping a
channel or forge a link.
"""

from __future__ import annotations

import logging
import re
import threading
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .channels import (
    add_follow,
    add_mute,
    channel_for,
    destination_key,
    follows,
    follows_and_rules,
    forget_reactions,
    mutes,
    preferences,
    record_reaction,
    remove_follow,
    remove_mute,
    remove_reaction,
    tailor,
)
from .cluster import rank
from .cluster.rank import story_score
from .config import SlackDestination, secret_from_env
from .deliver.slack import retry_handlers
from .errors import ConfigError, DeliveryError
from .models import Digest, DigestStory, Story
from .pipeline import summarize_stories
from .render import render_slack, slack_escape
from .runtime import usable_cpus

if TYPE_CHECKING:
    from .app import App
    from .store import Store

log = logging.getLogger(__name__)

USAGE = (
    "*/digest* commands:\n"
    "• `/digest follow <words or a sentence>`: post new matching stories here as alerts\n"
    "• `/digest list`: what this channel follows and mutes\n"
    "• `/digest unfollow N` · `/digest unmute N`: stop following or muting item N of the list\n"
    "• `/digest mute <outlet or words>`: leave matching stories out of this channel's digests\n"
    "• `/digest now`: the stories since the last digest, only to you\n"
    "• `/digest why <headline words or link>`: why a posted story was grouped and ranked so\n"
    "• `/digest forget`: clear this channel's 👍/👎 reactions"
)
NOW_MAX_STORIES = 10
MAX_TEXT = 300  # of a follow or a mute
_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,20}$")


def _e(text: str) -> str:
    return slack_escape(" ".join(str(text).split()))


class SlackApp:
    """The Bolt app and its Socket Mode connection; a `digest serve` service."""

    def __init__(self, app: App, store: Store) -> None:
        self.app = app
        self.config = app.config
        self.store = store  # this service's own connection
        self._lock = threading.Lock()
        self._work: Any = None  # the scheduler's lock: commands that summarise take it
        settings = self.config.slack
        self.app_token = secret_from_env(settings.app_token_env, "slack.app_token_env") or ""
        if not self.app_token.startswith("xapp-"):
            raise ConfigError(
                f"slack.app_token_env: {settings.app_token_env} does not hold an app-level token "
                "(xapp-…)",
                hint="create one under Basic Information > App-Level Tokens with the scope "
                "connections:write",
            )
        self.bot_token = secret_from_env(settings.bot_token_env, "slack.bot_token_env") or ""
        self.likes = set(settings.like_reactions)
        self.dislikes = set(settings.dislike_reactions)
        self.bolt = self._build_bolt()
        self._handler: Any = None

    # --- the service -----------------------------------------------------------------------

    def _build_bolt(self) -> Any:
        from slack_bolt import App as BoltApp
        from slack_sdk import WebClient

        client = WebClient(
            token=self.bot_token,
            base_url=self.config.slack.base_url,
            retry_handlers=retry_handlers(self.config.slack.max_retries),
        )
        bolt = BoltApp(
            client=client,
            token_verification_enabled=False,
            ignoring_self_events_enabled=False,
            logger=logging.getLogger("digest.slackapp.bolt"),
        )

        def on_command(ack: Any, command: dict[str, Any], respond: Any) -> None:
            self.on_command(ack, command, respond)

        def on_reaction_added(event: dict[str, Any]) -> None:
            self.on_reaction(event, added=True)

        def on_reaction_removed(event: dict[str, Any]) -> None:
            self.on_reaction(event, added=False)

        bolt.command("/digest")(on_command)
        bolt.event("reaction_added")(on_reaction_added)
        bolt.event("reaction_removed")(on_reaction_removed)
        return bolt

    def start(self, scheduler: Any = None) -> SlackApp:
        """Open the Socket Mode connection (a ConfigError naming the token when refused)."""
        from slack_bolt.adapter.socket_mode import SocketModeHandler
        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError

        self._work = getattr(scheduler, "work", None)
        web = WebClient(token=self.app_token, base_url=self.config.slack.base_url)
        self._handler = SocketModeHandler(
            self.bolt,
            app_token=self.app_token,
            web_client=web,
            concurrency=max(2, min(8, 2 * usable_cpus())),
            logger=logging.getLogger("digest.slackapp.socket"),
        )
        try:
            self._handler.connect()
        except SlackApiError as e:
            code = e.response.get("error") if e.response is not None else None
            raise ConfigError(
                f"slack.app_token_env: Slack refused the app-level token ({code or e})",
                hint="check the token and that Socket Mode is on for the app",
            ) from None
        except OSError as e:  # urllib's URLError too: Slack unreachable at start
            raise DeliveryError(
                "slack app", f"cannot open the Socket Mode connection: {getattr(e, 'reason', e)}"
            ) from None
        if self.connected:
            log.info("slack app: connected in Socket Mode")
        else:
            # slack-sdk's client keeps trying in the background (every ping interval): a
            # Slack outage at start must not stop the digests from running.
            log.error("slack app: cannot reach Slack's Socket Mode yet; retrying in the background")
        return self

    @property
    def connected(self) -> bool:
        """Whether the Socket Mode connection is up."""
        return self._handler is not None and bool(self._handler.client.is_connected())

    def stop(self) -> None:
        """Close the Socket Mode connection."""
        if self._handler is not None:
            self._handler.close()
            self._handler = None

    def close(self) -> None:
        """Stop, and close this service's store connection if it is its own."""
        self.stop()
        if self.store is not self.app.store:
            self.store.close()

    def _working(self) -> AbstractContextManager[Any]:
        return self._work if self._work is not None else nullcontext()

    # --- commands --------------------------------------------------------------------------

    def on_command(self, ack: Any, command: dict[str, Any], respond: Any) -> None:
        """Answer one `/digest …` (ephemeral: only the caller sees the answer)."""
        text = str(command.get("text") or "").strip()
        sub, _, rest = text.partition(" ")
        sub = sub.lower()
        rest = rest.strip()
        channel_id = str(command.get("channel_id") or "")
        channel_name = str(command.get("channel_name") or "")
        channel = channel_for(self.config, channel_id, channel_name)
        if channel is None:
            ack(
                text="Sorry, digest does not post in this channel, so it cannot follow or mute "
                "topics here. Ask whoever runs digest to add this channel to its config "
                "(`[slack] channels`).",
                response_type="ephemeral",
            )
            return
        user = str(command.get("user_id") or "")
        user = user if _USER_ID.match(user) else "someone"
        if sub == "now":
            ack(text="Looking for the stories since the last digest…", response_type="ephemeral")
            try:
                replies = self.now(channel)
            except Exception as e:  # noqa: BLE001 - the user gets a line, the log the details
                log.exception("slack app: /digest now failed")
                replies = [{"text": f"Sorry, that failed: {_e(type(e).__name__)}."}]
            for reply in replies:
                respond(**reply, response_type="ephemeral", replace_original=False)
            return
        if len(rest) > MAX_TEXT:
            ack(text=f"That is too long: at most {MAX_TEXT} characters.", response_type="ephemeral")
            return
        try:
            with self._lock:
                answer = self.answer(sub, rest, channel, channel_id, user)
        except Exception as e:  # noqa: BLE001 - the user gets a line, the log the details
            log.exception("slack app: /digest %s failed", sub)
            answer = f"Sorry, that failed: {_e(type(e).__name__)}."
        ack(text=answer, response_type="ephemeral")

    def answer(self, sub: str, rest: str, channel: str, channel_id: str, user: str) -> str:
        """The reply to a command that only reads or writes the state."""
        store = self.store
        now = self.app.clock()
        dest = destination_key(channel)
        if sub == "follow":
            if not rest:
                return "Follow what? `/digest follow <words or a sentence>`"
            follow = add_follow(store, channel, channel_id, rest, user, now)
            n = len(follows(store, channel))
            return (
                f"Following {n}: {_e(follow.describe())}. New matching stories will be posted "
                "here as alerts; `/digest list` shows everything this channel follows."
            )
        if sub == "list":
            lines = [_e_line(line) for line in follows_and_rules(self.config, store, channel)]
            muted = mutes(store, dest)
            lines += [f'{n}. muted: "{_e(m.text)}"' for n, m in enumerate(muted, start=1)]
            if not lines:
                return "This channel follows nothing and mutes nothing yet.\n" + USAGE
            return "This channel:\n" + "\n".join(lines)
        if sub in ("unfollow", "unmute"):
            items: list[Any] = follows(store, channel) if sub == "unfollow" else mutes(store, dest)
            if not rest.isdecimal() or not 1 <= int(rest) <= len(items):  # "²" is isdigit()
                what = "followed topic" if sub == "unfollow" else "mute"
                return f"There is no {what} {_e(rest) or '?'} here; `/digest list` shows them."
            item = items[int(rest) - 1]
            if sub == "unfollow":
                remove_follow(store, item.id)
                return f"No longer following {_e(item.describe())}."
            remove_mute(store, item.id)
            return f'No longer muting "{_e(item.text)}".'
        if sub == "mute":
            if not rest:
                return "Mute what? `/digest mute <outlet or words>`"
            mute = add_mute(store, channel, channel_id, rest, user, now)
            return (
                f'Muted "{_e(mute.text)}": stories from that outlet or with those words are left '
                "out of this channel's digests. `/digest unmute N` undoes it."
            )
        if sub == "forget":
            count = forget_reactions(store, dest)
            return f"Forgot {count} reaction(s): this channel's digests are ranked as before."
        if sub == "why":
            return self.why(channel, rest)
        if sub in ("", "help"):
            return USAGE
        return f"I do not know `{_e(sub)}`.\n" + USAGE

    # --- now and why -----------------------------------------------------------------------

    def _digests_of(self, channel: str) -> list[Any]:
        found = [
            d
            for d in self.config.digest
            if any(
                isinstance(dest, SlackDestination) and dest.channel == channel
                for dest in d.destinations
            )
        ]
        return found or list(self.config.digest)

    def now(self, channel: str) -> list[dict[str, Any]]:
        """The stories since the last digest of this channel, as ephemeral replies."""
        app = self.app
        digests = self._digests_of(channel)
        if not digests:
            return [{"text": "No digest is configured."}]
        with self._working():
            now = app.clock()
            window = now - timedelta(hours=self.config.cluster.window_hours)
            since = window
            for d in digests:
                last = app.store.last_finished_run(d.name)
                if last is not None:
                    since = max(since, last.started_at)
            feeds = list({f.url: None for d in digests for f in d.feeds})
            stories = rank(app.store.stories_updated_since(since, feeds), now)
            shown: list[Story] = stories[: NOW_MAX_STORIES * 2]
            quick = summarize_stories(app, shown) if shown else []
            digest = Digest(
                name=digests[0].name,
                generated_at=now,
                stories=tuple(
                    DigestStory(s, q) for s, q in zip(shown, quick, strict=True) if q is not None
                ),
            )
            digest, _ = tailor(app.store, destination_key(channel), digest, now)
        digest = Digest(
            name=digest.name, generated_at=now, stories=digest.stories[:NOW_MAX_STORIES]
        )
        if not digest.stories:
            return [{"text": "Nothing new since the last digest."}]
        return [{"text": m.text, "blocks": m.blocks} for m in render_slack(digest)]

    def why(self, channel: str, query: str) -> str:
        """The `--explain` of a story this channel was sent: its merges and its ranking."""
        if not query:
            return "Why which story? `/digest why <words of its headline, or its link>`"
        dest = destination_key(channel)
        sent = self.store.recently_delivered(dest, 500, except_ref="muted")
        link = query.strip("<>").split("|")[0]
        words = [w.casefold() for w in re.findall(r"\w+", query)]
        story = None
        for sid in sent:
            candidate = self.store.load_story(sid)
            if candidate is None:
                continue
            if any(a.url == link for a in candidate.articles):
                story = candidate
                break
            headline = candidate.headline.casefold()
            if words and all(w in headline for w in words):
                story = candidate
                break
        if story is None:
            return f"No story posted here matches “{_e(query)}”."
        now = self.app.clock()
        score = story_score(story, now)
        shift = preferences(self.store, dest).shift(story)
        lines = [
            f"*{_e(story.headline)}*",
            f"Ranking: score {score:.2f} ({len(story.outlets)} outlet(s), priority "
            f"{story.priority}, newest article {_e(story.published.isoformat(timespec='minutes'))})"
            + (f"; this channel's reactions {shift:+.2f}" if shift else ""),
            f"Outlets: {_e(', '.join(story.outlets))}",
        ]
        if story.merges:
            lines.append("Merged:")
            for m in story.merges:
                lines.append(
                    f"• {_e(m.article_key)}: {_e(m.level)} {m.score:.2f} ({_e(m.evidence)})"
                )
        else:
            lines.append("Merged: one article, nothing merged.")
        return "\n".join(lines)

    # --- reactions -------------------------------------------------------------------------

    def on_reaction(self, event: dict[str, Any], *, added: bool) -> None:
        """Record (or undo) a 👍/👎 on a message digest posted."""
        reaction = str(event.get("reaction") or "")
        vote = 1 if reaction in self.likes else -1 if reaction in self.dislikes else 0
        item = event.get("item") or {}
        if not vote or item.get("type") != "message":
            return
        channel_id = str(item.get("channel") or "")
        ts = str(item.get("ts") or "")
        user = str(event.get("user") or "")
        with self._lock:
            if added:
                ids = record_reaction(
                    self.store,
                    channel_id=channel_id,
                    ts=ts,
                    user=user,
                    reaction=reaction,
                    vote=vote,
                    now=self.app.clock(),
                )
                if ids:
                    log.info("slack app: %+d on %d story(ies) in %s", vote, len(ids), channel_id)
            else:
                remove_reaction(
                    self.store, channel_id=channel_id, ts=ts, user=user, reaction=reaction
                )


_OWN_MENTION = re.compile(r"(.*) \(followed by (<@[UW][A-Z0-9]{1,20}>)\)", re.DOTALL)


def _e_line(line: str) -> str:
    # `/digest list` lines mix our own markup with user text: escape all but the one mention
    # follows_and_rules appends; a <@U…> typed into the follow itself is escaped like any text.
    own = _OWN_MENTION.fullmatch(line)
    if own is None:
        return slack_escape(line)
    return f"{slack_escape(own[1])} (followed by {own[2]})"


def build_slack_app(app: App, store: Store) -> SlackApp:
    """The Slack app service for `digest serve` (ConfigError when a token is missing)."""
    return SlackApp(app, store)

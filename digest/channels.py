"""What a Slack channel changed for itself: followed topics, mutes and reactions, in the state.

The Slack app (`digest.slackapp`) writes these; this module reads them where the pipeline needs
them, without importing slack-bolt:

- A **follow** is a channel-scoped alert rule (`slack-<id>`), checked by `digest serve`'s alert
  poll beside the config's `[[alert]]` rules. A few words (or "quoted phrases", comma separated)
  become `keywords.any`; a longer sentence becomes a semantic query (MiniLM, threshold 0.5).
- A **mute** (an outlet's name or words) leaves matching stories out of that channel's digests:
  a story whose outlet equals the mute (case-insensitive) or whose text has the words. A muted
  story is recorded in the ledger for that channel with the reference `muted`, so it is not
  offered again.
- A **reaction** (👍 / 👎 by default, `[slack] like_reactions` / `dislike_reactions`) on a
  posted message counts +1 / -1 for the outlets and headline words of the stories in it (once
  each per reaction), per channel. An alert carries one story, so a reaction on it is precise;
  a digest message carries several, so a reaction there votes for all of their outlets. Each
  later story in that channel's digest gets `0.5 x (net votes of its outlets) + 0.25 x (net votes
  of its headline words)` added to its ranking score (`digest.cluster.rank`), each vote count
  capped at ±5 and the total at ±3 points, then the channel's copy is re-ordered. Removing the
  reaction undoes it; `/digest forget` clears the channel's reactions. `digest status` shows
  the standing counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .alerts import keyword_pattern, story_text
from .cluster.rank import story_score
from .config import AlertRule, Config, SlackDestination
from .models import Digest, Story

if TYPE_CHECKING:
    from .store import Store

OUTLET_POINTS = 0.5
TERM_POINTS = 0.25
MAX_VOTES = 5
MAX_SHIFT = 3.0
SEMANTIC_THRESHOLD = 0.5
KEYWORD_MAX_WORDS = 4
_STOP = frozenset(
    "a an and are as at be by for from has have in into is it its of on or over says that the "
    "their this to was were will with after before new".split()
)


# --- channels the app serves ---------------------------------------------------------------------


def configured_channels(config: Config) -> list[str]:
    """Every Slack channel the digests and alert rules post to, plus `[slack] channels`."""
    found: dict[str, None] = {}
    for d in config.digest:
        for dest in d.destinations:
            if isinstance(dest, SlackDestination):
                found[dest.channel] = None
    for rule in config.alert:
        for dest in rule.destinations:
            if isinstance(dest, SlackDestination):
                found[dest.channel] = None
    for channel in config.slack.channels:
        found[channel] = None
    return list(found)


def channel_for(config: Config, channel_id: str, channel_name: str) -> str | None:
    """The configured channel (as the config spells it) a command came from, or None."""
    for channel in configured_channels(config):
        if channel == channel_id or channel.removeprefix("#") == channel_name.removeprefix("#"):
            return channel
    return None


def destination_key(channel: str) -> str:
    """The ledger's destination key of a channel."""
    return f"slack:{channel}"


# --- follows -------------------------------------------------------------------------------------

_PHRASE = re.compile(r'"([^"]+)"|([^,"]+)')


def rule_spec(text: str) -> dict[str, Any]:
    """The condition a follow's text becomes: keywords for a few words, else a semantic query."""
    cleaned = " ".join(text.split())
    if '"' in cleaned or "," in cleaned:
        phrases = [(a or b).strip() for a, b in _PHRASE.findall(cleaned)]
        phrases = [p for p in phrases if p]
        if phrases:
            return {"keywords": {"any": phrases}}
    if len(cleaned.split()) <= KEYWORD_MAX_WORDS:
        return {"keywords": {"any": [cleaned]}}
    return {"semantic": {"query": cleaned, "threshold": SEMANTIC_THRESHOLD}}


@dataclass(frozen=True)
class Follow:
    """A topic a Slack channel (or an email reader, from the preferences page) follows."""

    id: int
    channel: str  # as the config spells it; for an email follow, the address
    text: str
    spec: dict[str, Any]
    created_by: str
    destination: str = ""  # `slack:<channel>` or `email:<address>`

    @property
    def is_email(self) -> bool:
        """Whether the alerts of this follow go by email."""
        return self.destination.startswith("email:")

    @property
    def rule_name(self) -> str:
        """The alert rule's name (and so its ledger kind, `alert:slack-<id>`)."""
        return f"{'email' if self.is_email else 'slack'}-{self.id}"

    def describe(self) -> str:
        """One line for `/digest list`: what it matches."""
        if "keywords" in self.spec:
            words = ", ".join(f'"{w}"' for w in self.spec["keywords"]["any"])
            return f"keywords {words}"
        return f'similar to "{self.spec["semantic"]["query"]}"'


def _insert_follow(
    store: Store, destination: str, channel_id: str, name: str, text: str, user: str, now: datetime
) -> Follow:
    spec = rule_spec(text)
    record = store.add_follow(
        destination,
        channel_id=channel_id,
        channel_name=name,
        text=text,
        rule=spec,
        created_by=user,
        now=now,
    )
    return Follow(record.id, name, text, spec, user, destination)


def add_follow(
    store: Store, channel: str, channel_id: str, text: str, user: str, now: datetime
) -> Follow:
    """Store a follow for a channel."""
    return _insert_follow(store, destination_key(channel), channel_id, channel, text, user, now)


def add_email_follow(store: Store, address: str, text: str, now: datetime) -> Follow:
    """Store a follow whose alerts are emailed to this address (from the preferences page)."""
    return _insert_follow(store, f"email:{address}", "", address, text, "web", now)


def _follows(store: Store, destination: str | None) -> list[Follow]:
    return [
        Follow(r.id, r.destination.split(":", 1)[-1], r.text, r.rule, r.created_by, r.destination)
        for r in store.follows(destination)
    ]


def follows(store: Store, channel: str | None = None) -> list[Follow]:
    """The follows of one Slack channel (or every follow, email ones too), oldest first."""
    return _follows(store, None if channel is None else destination_key(channel))


def email_follows(store: Store, address: str) -> list[Follow]:
    """The topics an email address follows, oldest first."""
    return _follows(store, f"email:{address}")


def remove_follow(store: Store, follow_id: int) -> None:
    """Forget a follow (its alerts already sent stay in the ledger)."""
    store.remove_follow(follow_id)


def state_rules(config: Config, store: Store) -> list[AlertRule]:
    """The follows as alert rules: to their channel with the app's bot token, or by email."""
    rules = []
    for f in follows(store):
        dest: dict[str, Any]
        if f.is_email:
            if config.smtp is None:
                continue  # no way to send it; the preferences page offers no follows then
            dest = {"type": "email", "to": [f.channel]}
        else:
            dest = {"type": "slack", "channel": f.channel, "token_env": config.slack.bot_token_env}
        rules.append(
            AlertRule.model_validate({"name": f.rule_name, **f.spec, "destinations": [dest]})
        )
    return rules


# --- mutes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mute:
    """An outlet or words a channel does not want in its digests."""

    id: int
    channel: str
    text: str

    def matches(self, story: Story) -> bool:
        """Whether the story comes from this outlet, or its text holds these words."""
        wanted = self.text.strip().casefold()
        if any(o.casefold() == wanted for o in story.outlets):
            return True
        return keyword_pattern(self.text).search(story_text(story)) is not None


def add_mute(
    store: Store, channel: str, channel_id: str, text: str, user: str, now: datetime
) -> Mute:
    """Store a mute for a channel."""
    record = store.add_mute(
        destination_key(channel),
        channel_id=channel_id,
        channel_name=channel,
        text=" ".join(text.split()),
        created_by=user,
        now=now,
    )
    return Mute(record.id, channel, record.text)


def mutes(store: Store, destination: str) -> list[Mute]:
    """A channel's mutes (by destination key), oldest first."""
    return [
        Mute(m.id, destination.removeprefix("slack:"), m.text) for m in store.mutes(destination)
    ]


def remove_mute(store: Store, mute_id: int) -> None:
    """Forget a mute."""
    store.remove_mute(mute_id)


# --- reactions -----------------------------------------------------------------------------------


def stories_of_message(store: Store, ts: str) -> tuple[str, list[str]] | None:
    """The Slack destination and story ids the ledger holds for a posted message's ts."""
    rows = store.deliveries_with_ref(ts, "slack:")
    if not rows:
        return None
    destination = rows[0].destination
    return destination, [r.story_id for r in rows if r.destination == destination]


def record_reaction(
    store: Store,
    *,
    channel_id: str,
    ts: str,
    user: str,
    reaction: str,
    vote: int,
    now: datetime,
) -> list[str]:
    """Record a 👍 (+1) or 👎 (-1) on a posted digest message; the story ids it counts for."""
    found = stories_of_message(store, ts)
    if found is None:
        return []
    destination, story_ids = found
    store.record_reaction(
        destination,
        channel_id=channel_id,
        ts_=ts,
        user=user,
        reaction=reaction,
        vote=vote,
        story_ids=story_ids,
        now=now,
    )
    return story_ids


def remove_reaction(store: Store, *, channel_id: str, ts: str, user: str, reaction: str) -> bool:
    """Undo a reaction (the user took it back); True when one was recorded."""
    return store.remove_reaction(channel_id=channel_id, ts_=ts, user=user, reaction=reaction)


def forget_reactions(store: Store, destination: str) -> int:
    """Clear every reaction of a channel; how many there were."""
    return store.forget_reactions(destination)


def headline_terms(headline: str) -> set[str]:
    """The words of a headline that stand for its topic (no stop words, 4+ letters)."""
    words = re.findall(r"\w+", headline.casefold())
    return {w for w in words if len(w) >= 4 and w not in _STOP and not w.isdigit()}


@dataclass(frozen=True)
class Preferences:
    """A channel's net votes per outlet and per headline word."""

    outlets: dict[str, int]
    terms: dict[str, int]

    def shift(self, story: Story) -> float:
        """Ranking points this channel adds to (or takes from) a story."""
        outlet_votes = sum(self.outlets.get(o.casefold(), 0) for o in set(story.outlets))
        term_votes = sum(self.terms.get(t, 0) for t in headline_terms(story.headline))
        raw = OUTLET_POINTS * outlet_votes + TERM_POINTS * term_votes
        return max(-MAX_SHIFT, min(MAX_SHIFT, raw))

    def __bool__(self) -> bool:
        return bool(self.outlets or self.terms)


def preferences(store: Store, destination: str) -> Preferences:
    """What a channel's reactions add up to."""
    outlets: dict[str, int] = {}
    terms: dict[str, int] = {}
    for reaction in store.reactions(destination):
        # One reaction is one vote per outlet and per word, however many of the message's
        # stories share them (a digest message carries several stories; an alert one).
        voted_outlets: set[str] = set()
        voted_terms: set[str] = set()
        for sid in reaction.story_ids:
            story = store.load_story(sid)
            if story is None:
                continue
            voted_outlets |= {o.casefold() for o in story.outlets}
            voted_terms |= headline_terms(story.headline)
        for o in voted_outlets:
            outlets[o] = outlets.get(o, 0) + reaction.vote
        for t in voted_terms:
            terms[t] = terms.get(t, 0) + reaction.vote

    def cap(d: dict[str, int]) -> dict[str, int]:
        return {k: max(-MAX_VOTES, min(MAX_VOTES, v)) for k, v in d.items() if v}

    return Preferences(cap(outlets), cap(terms))


def status_lines(store: Store) -> list[str]:
    """What `digest status` shows for the Slack channels: follows, mutes, reactions."""
    lines = []
    for destination in store.reader_destinations():
        if not destination.startswith("slack:"):
            continue
        channel = destination.removeprefix("slack:")
        lines.append(f"  {channel}")
        for f in follows(store, channel):
            lines.append(f"    follows: {f.describe()} (rule {f.rule_name})")
        for m in mutes(store, destination):
            lines.append(f'    mutes:   "{m.text}"')
        prefs = preferences(store, destination)
        if prefs:
            liked = ", ".join(f"{k} {v:+d}" for k, v in sorted(prefs.outlets.items()))
            lines.append(f"    reactions by outlet: {liked or 'none'}")
            top = sorted(prefs.terms.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:8]
            lines.append(f"    reactions by word:   {', '.join(f'{k} {v:+d}' for k, v in top)}")
            lines.append("    (undo: remove the reaction, or /digest forget)")
    if lines:
        lines[:0] = ["", "slack channels:"]
    emailed = [f for f in follows(store) if f.is_email]
    if emailed:
        lines += ["", "email follows (from the preferences page):"]
        lines += [f"  {f.channel}: {f.describe()} (rule {f.rule_name})" for f in emailed]
    return lines


# --- applying mutes and preferences to a channel's copy ------------------------------------------


def tailor(
    store: Store, destination: str, digest: Digest, now: datetime
) -> tuple[Digest, list[str]]:
    """The channel's copy of a digest: muted stories left out (their ids returned) and the rest
    re-ordered by the channel's reactions. Alerts pass unchanged."""
    if digest.kind != "digest":
        return digest, []
    muted_by = mutes(store, destination)
    kept = []
    muted = []
    for ds in digest.stories:
        if any(m.matches(ds.story) for m in muted_by):
            muted.append(ds.story.id)
        else:
            kept.append(ds)
    prefs = preferences(store, destination)
    if prefs:
        order = {id(ds): i for i, ds in enumerate(kept)}
        kept.sort(
            key=lambda ds: (-(story_score(ds.story, now) + prefs.shift(ds.story)), order[id(ds)])
        )
    return replace(digest, stories=tuple(kept)), muted


def follows_and_rules(config: Config, store: Store, channel: str) -> list[str]:
    """`/digest list`: the config's rules posting to the channel, then its own follows."""
    lines = []
    for rule in config.alert:
        if not any(
            isinstance(d, SlackDestination) and d.channel == channel for d in rule.destinations
        ):
            continue
        what: list[str] = []
        if rule.keywords:
            what += [f'"{w}"' for w in [*rule.keywords.all, *rule.keywords.any]]
        if rule.semantic:
            what.append(f'similar to "{rule.semantic.query}"')
        if rule.regex:
            what.append(f"regex {rule.regex}")
        if rule.breaking:
            what.append(f"{rule.breaking.outlets}+ outlets in {rule.breaking.within_hours:g}h")
        lines.append(f"• config rule {rule.name}: {', '.join(what)}")
    for n, f in enumerate(follows(store, channel), start=1):
        lines.append(f"{n}. {f.describe()} (followed by <@{f.created_by}>)")
    return lines

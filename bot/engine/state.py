"""What is kept between two requests of a conversation, and what one step produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

PRIORITIES = ("P1", "P2", "P3", "P4")


@dataclass
class SessionState:
    """The saved conversation: where the person is and what they answered (JSON-friendly).

    ``origin`` is ``[flow, version, state, lang]`` where the conversation began and ``inputs``
    the inputs accepted since: the engine is pure, so "back" replays all inputs but the last.
    ``page`` is the channel's page of a long menu; ``notice`` the hint shown above the screen
    (translated), kept so a page turn or a repeated request shows the screen as it was;
    ``memo`` is the channel's own note (the last provider request, to answer a repeated request
    the same way); ``sid`` is a random id the service gives each conversation, so its events
    have stable ids. ``channel`` is where it runs (``ussd``, ``sms``, ``telegram``; empty in a
    dry run): a flow may offer what only that channel can do, e.g. a reply in the Telegram chat.
    """

    flow: str
    version: str
    state: str
    lang: str
    answers: dict[str, str] = field(default_factory=dict)
    scores: dict[str, int] = field(default_factory=dict)
    priority: str | None = None
    rule: str | None = None
    inputs: list[str] = field(default_factory=list)
    origin: list[str] = field(default_factory=list)
    page: int = 0
    memo: dict[str, Any] = field(default_factory=dict)
    sid: str = ""
    notice: str = ""
    channel: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Serialise for the session store (explicit: ``asdict`` deep-copies, 100x slower).

        Fields at their default are left out (``from_dict`` restores them): every byte is kept
        per active session, in Redis, for thousands of callers at once.
        """
        data: dict[str, Any] = {
            "flow": self.flow,
            "version": self.version,
            "state": self.state,
            "lang": self.lang,
            "inputs": list(self.inputs),
            "origin": list(self.origin),
            "sid": self.sid,
        }
        if self.answers:
            data["answers"] = dict(self.answers)
        if self.scores:
            data["scores"] = dict(self.scores)
        if self.priority is not None:
            data["priority"] = self.priority
        if self.rule is not None:
            data["rule"] = self.rule
        if self.page:
            data["page"] = self.page
        if self.memo:
            data["memo"] = dict(self.memo)
        if self.notice:
            data["notice"] = self.notice
        if self.channel:
            data["channel"] = self.channel
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionState:
        """Restore from the session store; unknown keys are ignored (older or newer writers)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class Event:
    """Something the services must act on, e.g. ``case_submitted`` with the answers."""

    name: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Choice:
    """One option as shown: the key to type and its label in the person's language."""

    key: str
    label: str


@dataclass(frozen=True)
class Turn:
    """What to show after a step, already translated but not yet folded or paginated."""

    text: str
    lang: str
    options: tuple[Choice, ...] = ()
    navigation: tuple[Choice, ...] = ()
    notice: str | None = None
    expects: Literal["choice", "text", "nothing"] = "choice"
    max_length: int | None = None
    end: bool = False

    def format(self, values: dict[str, str]) -> Turn:
        """Fill ``{placeholders}`` (e.g. the case reference) known only after services ran."""
        if not values:
            return self
        return Turn(
            text=fill(self.text, values),
            lang=self.lang,
            options=self.options,
            navigation=self.navigation,
            notice=fill(self.notice, values) if self.notice else None,
            expects=self.expects,
            max_length=self.max_length,
            end=self.end,
        )


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, values: dict[str, str]) -> str:
    """Replace known ``{name}`` placeholders and leave unknown ones as they are."""
    return template.format_map(_Keep(values))


@dataclass(frozen=True)
class Step:
    """The result of one engine step: the next saved state (None when ended), the turn, events."""

    state: SessionState | None
    turn: Turn
    events: tuple[Event, ...] = ()

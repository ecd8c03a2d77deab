"""Actions and conditions of a flow in words an admin reads, in the page's language.

``{set_priority: {level: P1, rule: U1 danger now}}`` reads "sets priority P1 (U1 danger now)";
a template says a ``Phrase`` with the ``say`` macro of ``flow_macros.html``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from admin.flash import N_
from bot.core.languages import NAMES

CHANNEL_NAMES = {"ussd": "USSD", "sms": "SMS", "telegram": "Telegram"}
KINDS = {
    "menu": N_("menu"),
    "question": N_("question (yes / no / skip)"),
    "text": N_("free text"),
    "end": N_("end"),
    "area": N_("area (place, level by level)"),
}
"""Each kind of screen, as the outline names it."""
ANSWER_WORDS = {"yes": N_("Yes"), "no": N_("No"), "skip": N_("Skip"), "any": N_("any answer")}


@dataclass(frozen=True)
class Phrase:
    """A msgid of the ``web`` catalog with its values, and phrases it lists (all of, any of)."""

    msgid: str
    values: dict[str, str] = field(default_factory=dict)
    parts: tuple[Phrase, ...] = ()


def _raw(value: Any) -> Phrase:
    return Phrase(N_("as written: %(raw)s"), {"raw": str(value)})


def action(value: Any) -> Phrase:
    """One action in words."""
    if not isinstance(value, dict) or len(value) != 1:
        return _raw(value)
    ((name, args),) = value.items()
    if name == "record" and isinstance(args, dict):
        return Phrase(
            N_("records %(id)s = %(value)s"),
            {"id": str(args.get("id")), "value": str(args.get("value"))},
        )
    if name == "score":
        score, by = (args, 1) if isinstance(args, str) else (args.get("name"), args.get("by", 1))
        return Phrase(N_("adds %(by)s to the score %(name)s"), {"by": str(by), "name": str(score)})
    if name == "set_priority" and isinstance(args, dict):
        values = {"level": str(args.get("level")), "rule": str(args.get("rule"))}
        if "when" in args:
            return Phrase(
                N_("sets priority %(level)s (%(rule)s) when"), values, (condition(args["when"]),)
            )
        return Phrase(N_("sets priority %(level)s (%(rule)s)"), values)
    if name == "emit":
        return Phrase(N_("tells the team's services: %(event)s"), {"event": str(args)})
    if name == "set_language":
        return Phrase(
            N_("switches the language to %(lang)s"), {"lang": NAMES.get(str(args), str(args))}
        )
    return _raw(value)


def condition(value: Any) -> Phrase:
    """One condition in words."""
    if not isinstance(value, dict) or len(value) != 1:
        return _raw(value)
    ((name, args),) = value.items()
    if name == "answer" and isinstance(args, dict):
        shown = args.get("is")
        text = " / ".join(map(str, shown)) if isinstance(shown, list) else str(shown)
        return Phrase(
            N_("the answer %(id)s is %(value)s"), {"id": str(args.get("id")), "value": text}
        )
    if name == "score" and isinstance(args, dict):
        score = str(args.get("name"))
        if "at_least" in args and "at_most" in args:
            return Phrase(
                N_("the score %(name)s is from %(low)s to %(high)s"),
                {"name": score, "low": str(args["at_least"]), "high": str(args["at_most"])},
            )
        if "at_least" in args:
            return Phrase(
                N_("the score %(name)s is at least %(n)s"),
                {"name": score, "n": str(args["at_least"])},
            )
        return Phrase(
            N_("the score %(name)s is at most %(n)s"),
            {"name": score, "n": str(args.get("at_most"))},
        )
    if name == "priority":
        return Phrase(N_("the priority is %(level)s"), {"level": str(args)})
    if name == "language":
        return Phrase(N_("the language is %(lang)s"), {"lang": NAMES.get(str(args), str(args))})
    if name == "channel":
        return Phrase(
            N_("the conversation is on %(channel)s"),
            {"channel": CHANNEL_NAMES.get(str(args), str(args))},
        )
    if name in ("all", "any") and isinstance(args, list):
        words = N_("all of") if name == "all" else N_("any of")
        return Phrase(words, {}, tuple(condition(c) for c in args))
    if name == "not":
        return Phrase(N_("not"), {}, (condition(args),))
    return _raw(value)


STATUS_WORDS = {
    "missing": N_("missing"),
    "draft": N_("draft"),
    "needs_review": N_("needs native review"),
    "reviewed": N_("reviewed"),
}
"""Where a translation stands, as the outline says it."""


def words() -> dict[str, object]:
    """What the flow templates need to say kinds, answers and translation statuses."""
    return {"kinds": KINDS, "answer_words": ANSWER_WORDS, "status_words": STATUS_WORDS}

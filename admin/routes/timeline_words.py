"""A timeline event's detail in the reader's language: the case services write it in English
(``tip via ussd``, ``level 0 (new_p1) to demo.amani``...); each known format is read back here
and said with ``web`` msgids, codes through the label tables, names as they are. A detail no
format matches (or cut short at 300 characters) is shown as stored, marked English."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from admin import labels
from admin.flash import N_
from admin.routes import case_labels

Say = Callable[..., str]
"""``say(msgid, **values)``: the page's gettext (values escaped, the catalog's text trusted)."""


class SayMany(Protocol):
    """``say_n(singular, plural, n, **values)``: the page's ngettext (``%(num)s`` is ``n``)."""

    def __call__(self, singular: str, plural: str, n: int, /, **values: Any) -> str: ...


level = {"0": N_("primary"), "1": N_("backup"), "2": labels.role["supervisor"]}
"""The on-call levels (``bot.team.oncall.LEVELS``)."""
reason = {"new_p1": N_("new P1 case"), "overdue": N_("overdue")}
"""Why a level was alerted (``bot.cases.alerts.alert``'s ``reason``)."""
NOBODY = "nobody on call"
CONSENT = re.compile(r"(contact|refer|police) (yes|no)")
DAYS = re.compile(
    r"(anonymised after|contact removed after) (\d+) days?"
    r"|(number removed) (\d+) days? after closing"
)
REFERRAL_CODE = re.compile(r"referral (\d+) to (.+): code sent by SMS")
REFERRAL = re.compile(r"referral (\d+) to (.+) \(([a-z_]+)\): (.+)")
MOVE = re.compile(r"([a-z_]+) → ([a-z_]+)(?: \(([a-z_]+)\))?")
ALERT = re.compile(r"level (\d) \(([a-z_0-9]+)\) to (.+)")
NOT_PAGED = re.compile(r"level (\d) not paged: the shift's (\d+) alerts are spent")
NUMBER = re.compile(r"(referral|note) (\d+)")
FIXED = {
    "supervisor did not acknowledge": N_("the supervisor did not acknowledge"),
    "message sent to the person through the bot": N_("message sent to the person through the bot"),
    "number deleted: contact consent withdrawn, grace over": N_(
        "number deleted: contact consent withdrawn, grace over"
    ),
    "number deleted": N_("number deleted"),
    "number kept (withdrawal undone)": N_("number kept (withdrawal undone)"),
    "no number on file": N_("no number on file"),
    # TRANSLATORS: a case acknowledged again (after someone had already)
    "again": N_("again"),
    "supervisor override": N_("supervisor override"),
}


def _part(part: str, say: Say) -> str | None:
    """One comma-separated part of an ack, claim, consent or referral detail, or None."""
    if part in FIXED:
        return say(FIXED[part])
    if part.startswith("by ") and (channel := labels.channel.get(part[3:].lower())):
        # TRANSLATORS: acknowledged, claimed or a referral answered by SMS
        return say(N_("by %(channel)s"), channel=say(channel))
    if part.startswith("from ") and len(part) > 5:
        # TRANSLATORS: a case claimed, taken over from another operator (their username)
        return say(N_("from %(name)s"), name=part[5:])
    if found := CONSENT.fullmatch(part):
        name = say(case_labels.consent[found[1]])
        return say(
            N_("%(consent)s: yes") if found[2] == "yes" else N_("%(consent)s: no"), consent=name
        )
    if part.startswith("number deleted after ") and part.endswith(" UTC"):
        return say(N_("number deleted after %(when)s UTC"), when=part[21:-4])
    if found := MOVE.fullmatch(part):
        before = case_labels.referral_status.get(found[1])
        after = case_labels.referral_status.get(found[2])
        outcome = case_labels.outcome.get(found[3]) if found[3] else None
        if before is None or after is None or (found[3] and outcome is None):
            return None
        move = say(N_("%(before)s → %(after)s"), before=say(before), after=say(after))
        return (
            say(N_("%(move)s (%(outcome)s)"), move=move, outcome=say(outcome)) if outcome else move
        )
    if status := case_labels.referral_status.get(part):
        return say(status)
    return None


def _parts(text: str, say: Say) -> str | None:
    """A comma-separated list of known parts in words, or None when one is not known."""
    unchanged = text.endswith(" (unchanged)")
    words: list[str] = []
    for part in text.removesuffix(" (unchanged)").split(", "):
        if (word := _part(part, say)) is None:
            return None
        words.append(word)
    joined = Markup(", ").join(words)  # each part escaped once already
    return say(N_("%(what)s (unchanged)"), what=joined) if unchanged else joined


def _alert(detail: str, say: Say) -> str | None:
    """An alert line: who was paged at which level and why, or why not."""
    if found := ALERT.fullmatch(detail):
        step, why = level.get(found[1]), reason.get(found[2])
        if step is None or why is None:
            return None
        who = say(N_("nobody on call")) if found[3] == NOBODY else found[3]
        return say(
            N_("%(level)s on call (%(reason)s): %(name)s"),
            level=say(step),
            reason=say(why),
            name=who,
        )
    if (found := NOT_PAGED.fullmatch(detail)) and (step := level.get(found[1])):
        return say(
            N_("%(level)s on call not alerted: this shift's alerts are spent (%(count)s)"),
            level=say(step),
            count=found[2],
        )
    return None


def _referral(detail: str, say: Say) -> str | None:
    """A referral line: made or moved (with the service's name and type), or its code sent."""
    if found := REFERRAL_CODE.fullmatch(detail):
        return say(
            N_("referral %(number)s to %(service)s: code sent by SMS"),
            number=found[1],
            service=found[2],
        )
    if (found := REFERRAL.fullmatch(detail)) and (what := _parts(found[4], say)) is not None:
        kind = say(case_labels.word(case_labels.service_type, found[3]))
        return say(
            N_("referral %(number)s to %(service)s (%(type)s): %(what)s"),
            number=found[1],
            service=found[2],
            type=kind,
            what=what,
        )
    return None


def words(kind: str, detail: str | None, say: Say, say_n: SayMany) -> str | None:
    """``detail`` of an event of ``kind`` in the reader's words, or None when not known."""
    if not detail:
        return None
    if detail in FIXED:
        return say(FIXED[detail])
    if kind == "created" and (found := re.fullmatch(r"([a-z_]+) via ([a-z]+)", detail)):
        what, channel = case_labels.kind.get(found[1]), labels.channel.get(found[2])
        if what and channel:
            return say(N_("%(kind)s via %(channel)s"), kind=say(what), channel=say(channel))
        return None
    if kind == "status" and (close := case_labels.close_reason.get(detail)):
        return say(close)
    if found := NUMBER.fullmatch(detail):
        template = N_("referral %(number)s") if found[1] == "referral" else N_("note %(number)s")
        return say(template, number=found[2])
    if kind == "alert":
        return _alert(detail, say)
    if kind == "referral":
        return _referral(detail, say)
    if kind == "retention" and (found := DAYS.fullmatch(detail)):
        return _days(found[1] or found[3], int(found[2] or found[4]), say_n)
    if kind in ("ack", "claim", "consent"):
        return _parts(detail, say)
    return None


def _days(what: str, days: int, ngettext: SayMany) -> str:
    """A retention line with its number of days (``ngettext`` is named so for extraction)."""
    if what == "anonymised after":
        return ngettext("anonymised after %(num)s day", "anonymised after %(num)s days", days)
    if what == "contact removed after":
        return ngettext(
            "contact details removed after %(num)s day",
            "contact details removed after %(num)s days",
            days,
        )
    return ngettext(
        "number removed %(num)s day after closing",
        "number removed %(num)s days after closing",
        days,
    )


@pass_context
def event_words(context: Context, kind: str, detail: str | None) -> str | None:
    """``words`` with the page's own gettext and ngettext (a template global)."""

    def say(msgid: str, **values: Any) -> str:
        text = context.call(context.resolve("gettext"), msgid, **values)
        return text if isinstance(text, str) else msgid

    def say_n(singular: str, plural: str, n: int, /, **values: Any) -> str:
        text = context.call(context.resolve("ngettext"), singular, plural, n, **values)
        return text if isinstance(text, str) else plural

    return words(kind, detail, say, say_n)

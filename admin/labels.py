"""Words the team web shows for the services' codes (roles, statuses, channels...), as msgids
of the ``web`` catalog; templates read them as ``_(labels.status[item.status])``."""

from __future__ import annotations

from admin.flash import N_

role = {
    "operator": N_("operator"),
    "supervisor": N_("supervisor"),
    "admin": N_("admin"),
}
status = {
    "new": N_("new"),
    "triaged": N_("triaged"),
    # TRANSLATORS: also a service's status and a team member's: a word that fits all three
    "active": N_("active"),
    "referred": N_("referred"),
    "follow_up": N_("follow-up"),
    "closed": N_("closed"),
}
who = {
    "all": N_("All"),
    "mine": N_("Mine"),
    "unassigned": N_("Unassigned"),
}
service_type = {
    "shelter": N_("shelter"),
    "medical": N_("medical"),
    "psychosocial": N_("psychosocial"),
    "legal": N_("legal"),
    "police": N_("police"),
    "family_tracing": N_("family tracing"),
    "return_reintegration": N_("return and reintegration"),
}
service_status = {
    "active": N_("active"),
    "paused": N_("paused"),
    "closed": N_("closed"),
}
gender = {
    "any": N_("any gender"),
    "female": N_("women and girls"),
    "male": N_("men and boys"),
}
weekday = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)

exploitation = {
    "forced_labour": N_("forced labour"),
    "sexual_exploitation": N_("sexual exploitation"),
    "child_labour": N_("child labour"),
    "forced_marriage": N_("forced marriage"),
    "domestic_servitude": N_("domestic servitude"),
    "forced_begging": N_("forced begging"),
    "other": N_("other exploitation"),
}


def exploitation_word(code: str | None) -> str:
    """The msgid for an exploitation type, or an unknown code with its underscores as spaces."""
    if not code:
        return ""
    return exploitation.get(code, code.replace("_", " "))


language = {
    "en": N_("English"),
    "fr": N_("French"),
    "ln": N_("Lingala"),
    "st": N_("Sesotho"),
}
"""A language as the reader's language names it (a person picking their own sees its
endonym instead: ``render.ENDONYMS``)."""
channel = {
    "ussd": N_("USSD"),
    "sms": N_("SMS"),
    "telegram": N_("Telegram"),
    "web": N_("web"),
}
actor = {
    "system": N_("the hotline"),
    "partner": N_("a partner service"),
    "cli": N_("the command line"),
    "files": N_("the repository's files"),
}
"""Who did something when it was not a member of the team: the hotline by itself
(``bot.governance.audit.SYSTEM``), a service answering by SMS, the ``hotline`` command, the
flows seeded from the repository (``bot.content.store.FILES``)."""


def word(table: dict[str, str], code: str | None) -> str:
    """The msgid for ``code`` in ``table``, or the code itself (an empty string for None)."""
    if code is None:
        return ""
    return table.get(code, code)

"""English words for the codes figures are counted by (msgids of the team web's ``web``
catalog: ``admin/routes/stats_labels.py`` marks each one for translation)."""

from __future__ import annotations

UNKNOWN = "unknown"
"""The code of a case that did not say (no area, no type, minor or not not asked)."""

exploitation = {
    "forced_labour": "forced labour",
    "sexual_exploitation": "sexual exploitation",
    "child_labour": "child labour",
    "forced_marriage": "forced marriage",
    "domestic_servitude": "domestic servitude",
    "forced_begging": "forced begging",
    "organ_removal": "organ removal",
    "other": "other exploitation",
    UNKNOWN: "not stated",
}
age = {"minor": "children (under 18)", "adult": "adults", UNKNOWN: "not stated"}
kind = {
    "tip": "tip",
    "screening": "self-screening",
    "ambassador_report": "ambassador report",
    "callback_request": "call-back request",
}
channel = {"ussd": "USSD", "sms": "SMS", "telegram": "Telegram", "web": "web"}
language = {"en": "English", "fr": "French", "ln": "Lingala", "st": "Sesotho"}
place = {UNKNOWN: "not stated"}
referral = {
    "in_progress": "in progress",
    "accepted": "accepted",
    "rejected": "rejected",
    "revoked": "revoked",
    "successful": "done: successful",
    "not_successful": "done: not successful",
}
service_type = {
    "shelter": "shelter",
    "medical": "medical",
    "psychosocial": "psychosocial",
    "legal": "legal",
    "police": "police",
    "family_tracing": "family tracing",
    "return_reintegration": "return and reintegration",
}
level = {0: "primary", 1: "backup", 2: "supervisor"}

titles = {
    "month": "Cases by month",
    "province": "Cases by province",
    "type_age": "Cases by exploitation type and age",
    "kind": "Cases by kind",
    "channel": "Cases by channel",
    "language": "Cases by language",
}
heads = {
    "month": "Month",
    "province": "Province",
    "type_age": "Exploitation type",
    "kind": "Kind",
    "channel": "Channel",
    "language": "Language",
}
CASES = "Cases"
TOTAL = "Total"


def word(table: dict[str, str], code: str) -> str:
    """The English word for ``code`` (an unknown code as itself, underscores as spaces)."""
    return table.get(code, code.replace("_", " "))

"""Words the engine and channels show around a flow's own text; all go through the catalogs."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a string for extraction into the catalogs without translating it here."""
    return message


YES = N_("Yes")
NO = N_("No")
SKIP = N_("Skip")
EXIT = N_("Exit")
BACK = N_("Back")
MORE = N_("More")
HINT_CHOICE = N_("Please reply with one of the numbers shown.")
HINT_TEXT = N_("Please type a short answer, or 0 to exit.")
HINT_REFERENCE = N_("That is not a reference. It looks like K7QM-46: 4 letters or digits, then 2.")
CUT = N_("Your text was cut to {max_length} characters.")
GOODBYE = N_("Thank you. Stay safe. You can come back at any time.")
RESTARTED = N_("Your last session had ended, so we started again.")
WRONG_CODE = N_("This code does not offer this service. Please check the number you dialled.")
BUSY = N_("Sorry, the service is busy. Please try again in a moment.")
NOT_SAVED = N_("Sorry, we could not save your answers. Please try again, or call {hotline_number}.")
ALERT_NEW = N_(
    "Hotline: new case {reference}, priority {priority}, area {area}. Please acknowledge."
)
ALERT_ESCALATED = N_(
    "Hotline: case {reference} ({priority}, area {area}) is not acknowledged. You are next on call."
)
ALERT_GROUP = N_("Hotline: {count} new alerts for you: {cases}. Please acknowledge each.")
ALERT_GROUP_ITEM = N_("{reference} {priority} {area}")
ALERT_GROUP_MORE = N_("{count} more in the queue")
ALERT_BUDGET = N_(
    "Hotline: {count} alerts this shift, the limit. No more alerts until the shift ends: "
    "watch the queue."
)
CASES_LIMIT = N_(
    "We have received your recent reports. If you are in danger, call {hotline_number}."
)
STATUS_LATER = N_(
    "We cannot look up more reports just now. Please try again later, or call {hotline_number}."
)
STATUS_RECEIVED = N_("Report {reference}: received. Our team will look at it soon.")
STATUS_LOOKED_AT = N_("Report {reference}: our team is looking at it.")
STATUS_PARTNER = N_("Report {reference}: passed to a partner who can help.")
STATUS_CLOSED = N_("Report {reference}: closed. Thank you for reporting.")
STATUS_UNKNOWN = N_("We found no report {reference}. Please check the reference and try again.")
# Telegram: buttons show labels without numbers, and the chat can take things SMS cannot.
TAP_BUTTON = N_("Please tap one of the buttons below.")
TYPE_OR_TAP = N_("Please type a short answer, or tap Exit.")
STALE_BUTTON = N_("This menu is no longer current. Please use the latest message.")
MEDIA_REFUSED = N_(
    "Sorry, we cannot receive photos, voice notes, videos, files or stickers here, "
    "and nothing was kept. Please write in words, or tap a button."
)
# Operators on Telegram: linking, alert buttons, /queue. Never what was reported.
OP_ACK_BUTTON = N_("Acknowledge")
OP_CLAIM_BUTTON = N_("Claim")
OP_LINKED = N_(
    "Your Telegram is now linked to the hotline account {username}. "
    "On-call alerts will come here. Send /queue to see your open cases."
)
OP_LINK_REFUSED = N_(
    "This code does not work: it may be mistyped, already used or expired. "
    "Please get a new code from your hotline account."
)
OP_NOT_LINKED = N_(
    "This is for members of the hotline team. Get a code from your hotline account, "
    "then send /link followed by the code here."
)
OP_ACKNOWLEDGED = N_("Case {reference}: acknowledged by you.")
OP_CLAIMED = N_("Case {reference} is now yours.")
OP_CLAIMED_BY_OTHER = N_("Case {reference} is already claimed by someone else.")
OP_CASE_CLOSED = N_("Case {reference} is closed or can no longer change.")
OP_NOT_ALLOWED = N_("Only a linked member of the hotline team can use this button.")
OP_QUEUE_TITLE = N_("Your open cases:")
OP_QUEUE_EMPTY = N_("You have no open cases right now.")
OP_TIME_LEFT = N_("{time} left")
OP_OVERDUE = N_("overdue {time}")
OP_ON_TRACK = N_("acknowledged")
# Migrant ambassadors on Telegram (bot/channels/telegram/ambassadors.py).
HINT_LOCATION = N_(
    "Please send the location (paperclip, then Location), or go back and choose from the list."
)
LOCATION_PLACED = N_("Thank you. We placed it in {area}. The location itself was not kept.")
LOCATION_NOT_PLACED = N_(
    "Sorry, we could not place this location in an area we know. It was not kept. "
    "Please choose the place from the list."
)
AMBASSADOR_WELCOME = N_(
    "Welcome. You are now a hotline ambassador. We keep no name or number, only a code for "
    "this account. Send /report to report, /reports to follow your reports, /services to "
    "find help near you."
)
AMBASSADOR_ALREADY = N_("You are already registered as an ambassador.")
INVITE_REFUSED = N_(
    "Sorry, this invite code cannot be used: it is unknown, already used or expired. "
    "Please ask the person who trained you for a new one."
)
AMBASSADORS_ONLY = N_(
    "This is for registered ambassadors. To report something yourself, "
    "choose Report something in the menu."
)
REPORTS_NONE = N_("You have not sent any report yet. Send /report to start one.")
REPORTS_TITLE = N_("Your reports:")
SERVICES_ASK = N_("Send /services and a place, for example /services Kikwit.")
SERVICES_UNKNOWN_AREA = N_(
    "We do not know this place. Send /services and a town, province or district, "
    "for example /services Kikwit."
)
SERVICES_TITLE = N_("Services for {area}:")
SERVICES_NONE = N_("We have no services listed for {area} yet. Call the hotline: {hotline_number}.")
SERVICE_PHONES = N_("Phone: {phones}")
SERVICE_HOURS = N_("Hours: {hours}")
SERVICE_SHELTER = N_("Shelter")
SERVICE_MEDICAL = N_("Medical care")
SERVICE_PSYCHOSOCIAL = N_("Psychosocial support")
SERVICE_LEGAL = N_("Legal help")
SERVICE_POLICE = N_("Police")
SERVICE_FAMILY_TRACING = N_("Family tracing")
SERVICE_RETURN = N_("Return and reintegration")

# A toll-free deployment (HOTLINE_TOLL_FREE) shows these instead of the texts they are keyed by:
# "free" is said only where calling the hotline really costs nothing.
TOLL_FREE: dict[str, str] = {
    "{hotline_name}. You need not give your name.": N_(
        "{hotline_name}. Free. You need not give your name."
    ),
    "Call the hotline: {hotline_number}. You do not have to give your name. "
    "Or we can contact you:": N_(
        "Call the hotline free of charge: {hotline_number}. You do not have to give your name. "
        "Or we can contact you:"
    ),
    "Thank you. A hotline worker will try to contact you at the time you chose. "
    "Your reference: {reference}. Help: {hotline_number}": N_(
        "Thank you. A hotline worker will try to contact you at the time you chose. "
        "Your reference: {reference}. Free help: {hotline_number}"
    ),
    "OK. Come back when it is safe. Nothing was saved. Help: {hotline_number}": N_(
        "OK. Come back when it is safe. Nothing was saved. Free help: {hotline_number}"
    ),
    "Thank you. Some answers show you may need support. A hotline worker will look at this. "
    "Help: {hotline_number}. Ref: {reference}": N_(
        "Thank you. Some answers show you may need support. A hotline worker will look at this. "
        "Free help: {hotline_number}. Ref: {reference}"
    ),
    "Thank you. Learn the signs in our menu. If things change, we are here: {hotline_number}. "
    "Ref: {reference}": N_(
        "Thank you. Learn the signs in our menu. If things change, we are here, free: "
        "{hotline_number}. Ref: {reference}"
    ),
    "You do not have to give your name. Call the hotline: {hotline_number}. In danger now? "
    "Go to a safe place if you can.": N_(
        "Help is free and you do not have to give your name. Call the hotline: {hotline_number}. "
        "In danger now? Go to a safe place if you can."
    ),
    SERVICES_NONE: N_(
        "We have no services listed for {area} yet. Call the hotline free of charge: "
        "{hotline_number}."
    ),
}

# On call by SMS (bot/cases/sms_commands.py, bot/cases/partner_codes.py, bot/team/announce.py).
# Each text in ONE_PART fits one SMS part in GSM-7 after folding: ``hotline i18n check`` says so.
ALERT_NEW_SMS = N_(
    "Hotline: new case {reference} {priority}, area {area}. "
    "Reply 1 {reference} to acknowledge, 2 {reference} to take it."
)
ALERT_ESCALATED_SMS = N_(
    "Hotline: case {reference} {priority}, area {area}, not acknowledged: you are next. "
    "Reply 1 {reference} to acknowledge, 2 {reference} to take it."
)
ALERT_GROUP_SMS = N_("Reply 1 and a reference to acknowledge, 2 and a reference to take it.")
SMS_ALREADY_ACKNOWLEDGED = N_("Case {reference} was already acknowledged. Nothing changed.")
SMS_NOTHING_DONE = N_(
    "Hotline: nothing was done for {reference}. Check the reference, or open the queue."
)
PARTNER_REFERRAL = N_(
    "Hotline referral {reference} to {service}. Reply {code} ACCEPT or {code} DECLINE, "
    "then {code} DONE once help is given."
)
PARTNER_ACCEPTED = N_(
    "Thank you: referral {reference} accepted. Reply {code} DONE once help is given."
)
PARTNER_DECLINED = N_(
    "Thank you: referral {reference} declined. The hotline will look for another service."
)
PARTNER_DONE = N_("Thank you: referral {reference} is done.")
PARTNER_ALREADY = N_("Referral {reference}: already recorded. Nothing changed.")
PARTNER_REFUSED = N_(
    "This code does not work: mistyped, used or expired. Nothing changed. "
    "Please call the hotline: {hotline_number}."
)
SHIFT_PRIMARY = N_(
    "Hotline: your shift as primary on call starts now, until {ends}. Alerts come to you first."
)
SHIFT_BACKUP = N_(
    "Hotline: your shift as backup on call starts now, until {ends}. "
    "Alerts come to you if the primary does not answer."
)
SHIFT_SUPERVISOR = N_("Hotline: your shift as supervisor on call starts now, until {ends}.")
SHIFT_NO_PRIMARY = N_(
    "Hotline: the shift from {starts} has no primary on call. "
    "Please find one: new alerts would reach nobody first."
)
ONE_PART = (
    ALERT_NEW_SMS,
    ALERT_ESCALATED_SMS,
    OP_ACKNOWLEDGED,
    OP_CLAIMED,
    OP_CLAIMED_BY_OTHER,
    OP_CASE_CLOSED,
    SMS_ALREADY_ACKNOWLEDGED,
    SMS_NOTHING_DONE,
    PARTNER_REFERRAL,
    PARTNER_ACCEPTED,
    PARTNER_DECLINED,
    PARTNER_DONE,
    PARTNER_ALREADY,
    PARTNER_REFUSED,
    SHIFT_PRIMARY,
    SHIFT_BACKUP,
    SHIFT_SUPERVISOR,
    SHIFT_NO_PRIMARY,
)
"""SMS texts that must go out as one part (GSM-7, 160 characters) with the longest values."""
ONE_PART_SAMPLES = {
    "reference": "K7QM-46",
    "priority": "P1",
    "area": "x" * 24,
    "code": "K7QM4C",
    "service": "x" * 30,
    "hotline_number": "0" * 16,
    "ends": "06/12 20:00 UTC",
    "starts": "06/12 20:00 UTC",
}
"""The longest value each placeholder of ``ONE_PART`` takes (area codes are at most 22
characters; a service's name is cut to 30 in ``PARTNER_REFERRAL``; the number to 16)."""

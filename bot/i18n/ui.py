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

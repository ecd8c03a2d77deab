"""Words the case page shows for the case services' codes, as msgids of the ``web`` catalog.

Templates read them as ``_(case_labels.consent[name])``; a code without a label is shown as
it is stored (``case_labels.word(table, code)``).
"""

from __future__ import annotations

from admin import labels
from admin.flash import N_

consent = {
    "contact": N_("Contact back"),
    "refer": N_("Referral to a service"),
    "police": N_("Report to the police"),
}
kind = {
    "tip": N_("tip"),
    "screening": N_("self-screening"),
    "ambassador_report": N_("ambassador report"),
    "callback_request": N_("call-back request"),
}
close_reason = {
    "resolved": N_("resolved"),
    "not_trafficking": N_("not trafficking"),
    "no_contact_possible": N_("no contact possible"),
    "duplicate": N_("duplicate"),
}
event = {
    "created": N_("created"),
    "status": N_("status changed"),
    "ack": N_("acknowledged"),
    "claim": N_("claimed"),
    "note": N_("note added"),
    "consent": N_("consent recorded"),
    "alert": N_("alert sent"),
    "referral": N_("referral"),
    "message": N_("message sent to the person"),
    "retention": N_("data removed (retention)"),
}
referral_status = {
    "in_progress": N_("in progress"),
    "accepted": N_("accepted"),
    "rejected": N_("rejected"),
    "revoked": N_("revoked"),
    "done": N_("done"),
}
referral_move = {
    "accepted": N_("Accepted by the service"),
    "rejected": N_("Rejected by the service"),
    "revoked": N_("Revoke"),
    "done": N_("Done"),
}
outcome = {
    "successful": N_("successful"),
    "not_successful": N_("not successful"),
}
service_type = labels.service_type
"""The directory's words for service types (one table for the directory and the case page)."""
gender = {
    "female": N_("women and girls"),
    "male": N_("men and boys"),
    "any": N_("anyone"),
}


def word(table: dict[str, str], code: str | None) -> str:
    """The msgid for ``code`` in ``table``, or the code itself (an empty string for None)."""
    if code is None:
        return ""
    return table.get(code, code)

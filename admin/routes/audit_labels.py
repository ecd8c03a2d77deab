"""The audit trail's actions in words (msgids of the ``web`` catalog); an action without one
is shown as its code. ``tests/admin/test_pages_translated.py`` checks every action the
services record has its words here."""

from __future__ import annotations

from admin.flash import N_

action = {
    "ack": N_("acknowledged a case"),
    "add_operator": N_("added a member"),
    "add_service": N_("added a service"),
    "add_shift": N_("added a shift"),
    "change_operator": N_("changed a member"),
    "change_password": N_("changed a password"),
    "change_service": N_("changed a service"),
    "change_shift": N_("changed a shift"),
    "claim": N_("claimed a case"),
    "consent": N_("recorded consent"),
    "decrypt": N_("decrypted a report"),
    "demo_year_removed": N_("removed the demo year"),
    "import_directory": N_("imported the directory"),
    "import_flow": N_("imported a flow"),
    "import_po": N_("imported translations"),
    "message": N_("messaged the person"),
    "normalise_phones": N_("normalised phone numbers"),
    "note": N_("added a note"),
    "partner_sms": N_("sent a service a code by SMS"),
    "publish_flow": N_("published a flow"),
    "purge": N_("deleted what was due"),
    "referral": N_("referred a case"),
    "referral_override": N_("referred without consent"),
    "referral_update": N_("updated a referral"),
    "refused": N_("was refused"),
    "remove_shift": N_("removed a shift"),
    "reveal": N_("read a report"),
    "reveal_contact": N_("read a number to call back"),
    "rollback_flow": N_("rolled a flow back"),
    "rotate_keys": N_("rotated the encryption keys"),
    "stats_export": N_("exported the case-level statistics"),
    "status": N_("changed a case's status"),
    "telegram_code": N_("asked for a Telegram link code"),
    "telegram_link": N_("linked Telegram"),
    "telegram_unlink": N_("unlinked Telegram"),
    "view_audit": N_("read the audit trail"),
    "view_case": N_("opened a case"),
}

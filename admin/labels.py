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

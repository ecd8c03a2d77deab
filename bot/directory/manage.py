"""Keeping the directory one service at a time: list, add, change, verify, deactivate.

The fields are checked by ``bot.directory.validate`` (as a CSV row is); services are told apart
by (name, organisation), so adding or renaming onto another's is ``DuplicateService``. Every
change is audited (names and fields changed, never a phone value). Functions work in the
caller's session and never commit; the team web and any API route are clients of them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date

from sqlmodel import Session, col, select

from bot.core.clock import utcnow
from bot.directory.validate import (
    FIELDS,
    SERVICE_TYPES,
    STATUSES,
    ServiceFields,
    service_key,
    split_list,
    validate_service,
)
from bot.governance import audit
from bot.models import Service

log = logging.getLogger(__name__)


class NoSuchService(LookupError):
    """No service has this id."""

    def __init__(self, service_id: int) -> None:
        self.service_id = service_id
        super().__init__(f"no service {service_id}")


class DuplicateService(ValueError):
    """Another service has this name and organisation."""

    def __init__(self) -> None:
        super().__init__("another service has this name and organisation")


def _order(service: Service) -> tuple[str, str, str]:
    return (service.service_type, service.name.casefold(), service.organisation.casefold())


def list_services(
    session: Session,
    *,
    area: str | None = None,
    service_type: str | None = None,
    active: bool | None = None,
) -> list[Service]:
    """Services by type then name: of one area (any case), one type, active or not (None: all).

    A blank filter is no filter; an unknown type is ValueError.
    """
    query = select(Service)
    if service_type:
        if service_type not in SERVICE_TYPES:
            raise ValueError(
                f"service_type {service_type!r} is not one of {', '.join(SERVICE_TYPES)}"
            )
        query = query.where(col(Service.service_type) == service_type)
    if active is True:
        query = query.where(col(Service.status) == "active")
    elif active is False:
        query = query.where(col(Service.status) != "active")
    found = list(session.exec(query).all())
    wanted = area.strip().casefold() if area and area.strip() else None
    if wanted is not None:
        found = [s for s in found if wanted in {a.casefold() for a in split_list(s.areas)}]
    return sorted(found, key=_order)


def areas(session: Session) -> list[str]:
    """Every area some service serves, sorted (for a filter's choices)."""
    seen: dict[str, str] = {}
    for stored in session.exec(select(Service.areas)).all():
        for area in split_list(stored):
            seen.setdefault(area.casefold(), area)
    return sorted(seen.values(), key=str.casefold)


def get_service(session: Session, service_id: int) -> Service:
    """The service with this id; else NoSuchService."""
    service = session.get(Service, service_id)
    if service is None:
        raise NoSuchService(service_id)
    return service


def _check_unique(session: Session, fields_: ServiceFields, keep: int | None = None) -> None:
    for other in session.exec(select(Service)).all():
        if other.id != keep and service_key(other.name, other.organisation) == fields_.key:
            raise DuplicateService()


def add_service(
    session: Session, raw: Mapping[str, object], *, actor: str, today: date | None = None
) -> Service:
    """Add a service from its raw fields (InvalidService, DuplicateService); audited."""
    fields_ = validate_service(raw, today=today)
    _check_unique(session, fields_)
    service = Service(**fields_.columns(), updated_at=utcnow())
    session.add(service)
    session.flush()
    audit.record(
        session, actor=actor, action="add_service", reason=f"service {service.id}: {service.name}"
    )
    log.info("service %s added by %s", service.id, actor)
    return service


def change_service(
    session: Session,
    service: Service,
    raw: Mapping[str, object],
    *,
    actor: str,
    today: date | None = None,
) -> list[str]:
    """Replace a service's fields with the raw ones given (a field left out keeps its value);
    the names of the fields changed, audited. InvalidService, DuplicateService."""
    current = ServiceFields.of(service)
    merged: dict[str, object] = {name: getattr(current, name) for name in FIELDS}
    merged.update(raw)
    fields_ = validate_service(merged, today=today)
    _check_unique(session, fields_, keep=service.id)
    changed = [name for name in FIELDS if getattr(fields_, name) != getattr(current, name)]
    if changed:
        fields_.apply_to(service)
        service.updated_at = utcnow()
        session.add(service)
        audit.record(
            session,
            actor=actor,
            action="change_service",
            reason=f"service {service.id}: {', '.join(changed)}",
        )
        log.info("service %s changed by %s: %s", service.id, actor, ", ".join(changed))
    return changed


def mark_verified(
    session: Session, service: Service, *, on: date, actor: str, today: date | None = None
) -> bool:
    """Record that the service's details were checked on ``on`` (not in the future); audited.

    InvalidService for a date ahead of today; False when it was already the date recorded.
    """
    return bool(change_service(session, service, {"last_verified": on}, actor=actor, today=today))


def set_status(session: Session, service: Service, status: str, *, actor: str) -> bool:
    """Activate, pause or close a service (closed ones are offered to no one); audited.

    ValueError for an unknown status; False when it already had it.
    """
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    if service.status == status:
        return False
    service.status = status
    service.updated_at = utcnow()
    session.add(service)
    audit.record(
        session, actor=actor, action="change_service", reason=f"service {service.id}: {status}"
    )
    log.info("service %s set %s by %s", service.id, status, actor)
    return True


def deactivate(session: Session, service: Service, *, actor: str) -> bool:
    """Close a service: it stays in the directory (and its referrals) but is offered no more."""
    return set_status(session, service, "closed", actor=actor)

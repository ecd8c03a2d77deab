"""Demo data for the embedded default: a team, a week of rota and a small directory, all marked.

Everything here has ``demo=True`` and invented names; the phone numbers are in unassigned
ranges (+243 000…, +266 000…), so an alert "sent" in a demo reaches nobody.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.privacy import Cipher
from bot.models import Operator, Service, Shift

log = logging.getLogger(__name__)

TEAM = [
    # username, display name, role, language, fake phone for alerts
    ("demo.amani", "Amani (demo operator)", "operator", "fr", "+243000000901"),
    ("demo.lerato", "Lerato (demo operator)", "operator", "st", "+266000000902"),
    ("demo.joseph", "Joseph (demo supervisor)", "supervisor", "en", "+243000000903"),
    ("demo.admin", "Demo admin", "admin", "en", None),
]
DIRECTORY = [
    # name, organisation, type, areas, languages, min_age, max_age, genders
    (
        "Kikwit safe house (demo)",
        "Demo NGO Kwilu",
        "shelter",
        "cd-kwilu-kikwit",
        "fr,ln",
        None,
        None,
        "female",
    ),
    (
        "Kikwit general hospital (demo)",
        "Demo health zone",
        "medical",
        "cd-kwilu-kikwit",
        "fr,ln",
        None,
        None,
        "any",
    ),
    (
        "Kinshasa legal clinic (demo)",
        "Demo bar association",
        "legal",
        "cd-kinshasa",
        "fr,ln",
        18,
        None,
        "any",
    ),
    (
        "Family tracing desk (demo)",
        "Demo Red Cross",
        "family_tracing",
        "cd-kwilu-kikwit,cd-kinshasa,gn-conakry",
        "fr,ln",
        None,
        None,
        "any",
    ),
    (
        "Conakry child protection (demo)",
        "Demo child services",
        "psychosocial",
        "gn-conakry",
        "fr",
        None,
        17,
        "any",
    ),
    (
        "Maseru victim support (demo)",
        "Demo LMPS unit",
        "police",
        "ls-maseru",
        "st,en",
        None,
        None,
        "any",
    ),
    (
        "Maseru shelter (demo)",
        "Demo women's network",
        "shelter",
        "ls-maseru,ls-berea",
        "st,en",
        18,
        None,
        "female",
    ),
    (
        "Return and reintegration (demo)",
        "Demo migration office",
        "return_reintegration",
        "ls-maseru,cd-kinshasa,gn-conakry",
        "en,fr,st",
        None,
        None,
        "any",
    ),
]


def seed(
    engine: Engine, cipher: Cipher, *, password: str, today: date, days: int = 7
) -> dict[str, int]:
    """Add the demo team, rota and directory unless demo data is already there."""
    hasher = PasswordHasher()
    with Session(engine) as session:
        if session.exec(select(Operator).where(Operator.demo)).first() is not None:
            return {}
        ids: dict[str, int] = {}
        for username, name, role, lang, phone in TEAM:
            operator = Operator(
                username=username,
                display_name=name,
                role=role,
                lang=lang,
                password_hash=hasher.hash(password),
                phone=cipher.encrypt(phone, "operator.phone") if phone else None,
                demo=True,
            )
            session.add(operator)
            session.flush()
            assert operator.id is not None
            ids[username] = operator.id
        start = datetime.combine(today, datetime.min.time()).astimezone()
        for day in range(days):
            for hour, (primary, backup) in (
                (8, ("demo.amani", "demo.lerato")),
                (20, ("demo.lerato", "demo.amani")),
            ):
                begins = start + timedelta(days=day, hours=hour)
                session.add(
                    Shift(
                        starts_at=begins,
                        ends_at=begins + timedelta(hours=12),
                        primary_id=ids[primary],
                        backup_id=ids[backup],
                        supervisor_id=ids["demo.joseph"],
                        demo=True,
                    )
                )
        # the night before the first day, so the rota covers "now" whenever the demo starts
        night = start - timedelta(hours=4)
        session.add(
            Shift(
                starts_at=night,
                ends_at=start + timedelta(hours=8),
                primary_id=ids["demo.lerato"],
                backup_id=ids["demo.amani"],
                supervisor_id=ids["demo.joseph"],
                demo=True,
            )
        )
        for name, org, kind, areas, langs, min_age, max_age, genders in DIRECTORY:
            session.add(
                Service(
                    name=name,
                    organisation=org,
                    service_type=kind,
                    areas=areas,
                    phones="+243 000 000 100",
                    hours="24/7",
                    languages=langs,
                    min_age=min_age,
                    max_age=max_age,
                    genders=genders,
                    last_verified=today,
                    demo=True,
                )
            )
        session.commit()
    log.warning(
        "demo data added: %d operators, %d shifts, %d services (all marked demo)",
        len(TEAM),
        2 * days + 1,
        len(DIRECTORY),
    )
    return {"operators": len(TEAM), "shifts": 2 * days + 1, "services": len(DIRECTORY)}

"""Building blocks for case tests: a team with encrypted phones, a rota, a cipher, a catalog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.privacy import Cipher, new_key
from bot.i18n.catalog import Catalogs
from bot.models import Operator, Shift
from tests.conftest import TEST_PHONES

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
CIPHER = Cipher.from_list([new_key()])
CATALOGS = Catalogs.load(ROOT / "locales")


def team(engine: Engine, *, start: datetime = T0, hours: int = 12) -> dict[str, int]:
    """Three operators with (fake) phones and a shift covering ``start`` for ``hours``."""
    ids: dict[str, int] = {}
    with Session(engine) as session:
        for (name, role, lang), phone in zip(
            [
                ("amani", "operator", "fr"),
                ("lerato", "operator", "st"),
                ("joseph", "supervisor", "en"),
            ],
            TEST_PHONES,
            strict=True,
        ):
            operator = Operator(
                username=name,
                display_name=name.title(),
                role=role,
                lang=lang,
                phone=CIPHER.encrypt(phone, "operator.phone"),
            )
            session.add(operator)
            session.flush()
            assert operator.id is not None
            ids[name] = operator.id
        session.add(
            Shift(
                starts_at=start,
                ends_at=start + timedelta(hours=hours),
                primary_id=ids["amani"],
                backup_id=ids["lerato"],
                supervisor_id=ids["joseph"],
            )
        )
        session.commit()
    return ids

"""Finding a case by its reference as typed."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cases import access
from bot.cases.access import CaseNotFound
from tests.cases.casework import make_case
from tests.cases.helpers import team


def test_find_case_takes_a_reference_as_typed(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    with Session(engine) as session:
        assert access.find_case(session, ref.lower().replace("-", " ")).reference == ref
        for typed in ("", "nonsense", "AAAA-33"):
            with pytest.raises(CaseNotFound):
                access.find_case(session, typed)

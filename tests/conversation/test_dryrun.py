"""The simulator's sink: the same screens as the real service, with nothing saved."""

from __future__ import annotations

import logging

import pytest

from bot.cases.reference import PATTERN
from bot.conversation.dryrun import SAMPLE_REFERENCE, DryRunSink
from bot.engine.state import Event
from bot.i18n import ui
from tests.cases.helpers import CATALOGS


async def test_a_report_gets_a_sample_reference_that_cannot_be_real(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    event = Event("tip_submitted", {"flow": "tip", "lang": "fr", "answers": {"description": "x"}})
    values = await DryRunSink(CATALOGS.gettext).handle([event], channel="ussd", contact="c")
    assert values == {"reference": SAMPLE_REFERENCE}
    assert not PATTERN.match(SAMPLE_REFERENCE)
    assert "tip_submitted" in caplog.text and "description" not in caplog.text


async def test_a_lookup_gets_a_neutral_status_in_the_language() -> None:
    event = Event(
        "status_requested", {"flow": "follow", "lang": "st", "answers": {"reference": "KAAA-33"}}
    )
    values = await DryRunSink(CATALOGS.gettext).handle([event], channel="ussd", contact="c")
    expected = CATALOGS.gettext("st", ui.STATUS_RECEIVED).format(reference="KAAA-33")
    assert values == {"status": expected}

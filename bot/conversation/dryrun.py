"""An event sink that saves nothing, for the terminal simulator and transcripts: same screens."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.engine.state import Event
from bot.i18n import ui
from bot.i18n.translate import Translate

log = logging.getLogger(__name__)

SAMPLE_REFERENCE = "TEST-00"
"""Shown where a real reference would be: it cannot be one (0 is not in the alphabet)."""


class DryRunSink:
    """Logs event names and answers with what the cases service would, without writing a case."""

    def __init__(self, tr: Translate) -> None:
        self.tr = tr

    async def handle(
        self,
        events: Sequence[Event],
        *,
        channel: str,
        contact: str,
        address: str | None = None,
    ) -> dict[str, str]:
        """A sample reference for a report, a neutral status for a lookup."""
        values: dict[str, str] = {}
        for event in events:
            log.info("dry run: event %s from flow %s not saved", event.name, event.payload["flow"])
            lang = str(event.payload.get("lang") or "en")
            if event.name == "status_requested":
                typed = str(dict(event.payload.get("answers") or {}).get("reference", ""))
                values["status"] = self.tr(lang, ui.STATUS_RECEIVED).format(reference=typed)
            else:
                values["reference"] = SAMPLE_REFERENCE
        return values

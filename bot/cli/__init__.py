"""The ``hotline`` command: serve, simulate, check flows and catalogs, run the worker, manage data.

A composition root: each module registers its commands on ``main`` (``bot.cli.root``).
"""

from __future__ import annotations

from bot.cli import content, governance, outbox, run, stats, team, telegram
from bot.cli.root import main

__all__ = ["content", "governance", "main", "outbox", "run", "stats", "team", "telegram"]

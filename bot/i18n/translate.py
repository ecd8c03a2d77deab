"""The one shape of a translation function each part is handed (no part looks up catalogs)."""

from __future__ import annotations

from collections.abc import Callable

Translate = Callable[[str, str], str]
"""(language, English source text) -> text in that language."""

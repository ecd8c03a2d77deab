"""The flows and translations a process runs, loaded and validated together, refused if broken.

The file source of content: flow files (``flows/*.yaml``), the areas data beside them
(``flows/data/areas.yaml``) and the catalogs (``locales/``). The engine is given their text;
every file read happens here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.channels.renderers import screen_checks
from bot.engine.areas import AreaDataError, AreaTree, parse_areas
from bot.engine.compile import compile_flow
from bot.engine.formats import answer_formats
from bot.engine.loader import FlowIssue, FlowLoadError, LoadedFlow, load_text
from bot.engine.registry import FlowRegistry
from bot.engine.state import SessionState
from bot.engine.validate import Catalog, validate
from bot.i18n.catalog import Catalogs

AREAS_FILE = Path("data") / "areas.yaml"
"""Where the areas data lives, relative to the flows folder."""


def display_path(path: Path) -> str:
    """A path as people read it in messages: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def flow_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders to their ``*.yaml``/``*.yml`` files, sorted, keeping files as given."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
        else:
            found.append(path)
    return found


def read_areas(path: Path) -> AreaTree:
    """Read and check an areas data file; AreaDataError says what is wrong and where."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AreaDataError(f"cannot read areas data: {exc}") from None
    return parse_areas(text, display_path(path))


def areas_beside(folder: Path) -> AreaTree | None:
    """The areas data of a flows folder (``data/areas.yaml``), None when it has none."""
    path = folder / AREAS_FILE
    return read_areas(path) if path.exists() else None


def load_file(path: Path, areas: AreaTree | None = None) -> LoadedFlow:
    """Load one flow file; raise FlowLoadError with every issue found.

    ``areas``: the areas data its area states are expanded from; when not given, the data
    beside the file (``data/areas.yaml``), if there is one.
    """
    if areas is None:
        try:
            areas = areas_beside(path.parent)
        except AreaDataError as exc:
            raise FlowLoadError([_areas_issue(path.parent, exc)]) from None
    return _load_file(path, areas)


def _load_file(path: Path, areas: AreaTree | None) -> LoadedFlow:
    name = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowLoadError([FlowIssue(name, f"cannot read file: {exc}")]) from None
    return load_text(text, name, areas)


def _areas_issue(folder: Path, exc: AreaDataError) -> FlowIssue:
    return FlowIssue(display_path(folder / AREAS_FILE), str(exc))


def check_flows(paths: list[Path], catalogs: Catalogs) -> tuple[list[LoadedFlow], list[FlowIssue]]:
    """Load and validate flow files (folders are expanded); every issue found, none raised.

    Checked as they run with and without ``HOTLINE_TOLL_FREE``, whose texts say "free".
    """
    loaded, issues, areas = _check(paths, catalogs)
    if not issues and not catalogs.variants:
        issues = _toll_free_issues(loaded, catalogs, areas)
    return loaded, issues


def check_loaded(
    loaded: list[LoadedFlow],
    catalogs: Catalogs,
    areas: AreaTree | None,
    *,
    texts_of: Collection[str] | None = None,
) -> list[FlowIssue]:
    """The checks of ``hotline flows check`` on flows already parsed (stored versions, a draft):
    every channel's screens in every language, then as a toll-free deployment runs them.
    ``texts_of``: the flows whose texts and screens are checked (default: all)."""
    issues = validate(
        loaded,
        Catalog(tr=catalogs.gettext, has=catalogs.has),
        screen_checks(catalogs.gettext),
        answer_formats(areas),
        texts_of=texts_of,
    )
    if not issues and not catalogs.variants:
        issues = _toll_free_issues(loaded, catalogs, areas, texts_of)
    return issues


def _check(
    paths: list[Path], catalogs: Catalogs
) -> tuple[list[LoadedFlow], list[FlowIssue], AreaTree | None]:
    """Flows, issues, and the areas data they were loaded with: each flow file takes the
    data beside it (read once per folder); the answer formats are built from the first
    folder's that has any."""
    loaded: list[LoadedFlow] = []
    issues: list[FlowIssue] = []
    trees: dict[Path, AreaTree | None] = {}
    files = flow_files(paths)
    if not files:
        issues.append(FlowIssue(", ".join(map(str, paths)), "no flow files found"))
    for path in files:
        folder = path.parent
        if folder not in trees:
            try:
                trees[folder] = areas_beside(folder)
            except AreaDataError as exc:
                trees[folder] = None
                issues.append(_areas_issue(folder, exc))
        try:
            loaded.append(_load_file(path, trees[folder]))
        except FlowLoadError as exc:
            issues.extend(exc.issues)
    areas = next((tree for tree in trees.values() if tree is not None), None)
    catalog = Catalog(tr=catalogs.gettext, has=catalogs.has)
    issues.extend(validate(loaded, catalog, screen_checks(catalogs.gettext), answer_formats(areas)))
    return loaded, issues, areas


def _toll_free_issues(
    loaded: list[LoadedFlow],
    catalogs: Catalogs,
    areas: AreaTree | None,
    texts_of: Collection[str] | None = None,
) -> list[FlowIssue]:
    """What only a toll-free deployment would meet: its "free" texts too long or untranslated."""
    free = catalogs.toll_free()
    catalog = Catalog(tr=free.gettext, has=free.has)
    checks = screen_checks(free.gettext)
    return [
        FlowIssue(i.source, f"with HOTLINE_TOLL_FREE: {i.reason}", i.state, i.lang, i.line)
        for i in validate(loaded, catalog, checks, answer_formats(areas), texts_of=texts_of)
    ]


Fetch = Callable[[list[tuple[str, str]]], Awaitable[None]]
"""Load flow versions (name, digest) this process lacks into its registry (from the database)."""


@dataclass(frozen=True)
class Content:
    """Compiled flows (with the answer formats they run with), the catalogs that translate
    them, and the areas data they were loaded with (None when the flows folder has none).

    ``fetch``: how versions this process lacks are loaded (``bot.content.snapshot``); without
    it, a conversation on a version that is not here starts again politely.
    """

    registry: FlowRegistry
    catalogs: Catalogs
    areas: AreaTree | None = None
    fetch: Fetch | None = field(default=None, compare=False)

    def tr(self, lang: str, msgid: str) -> str:
        """Translate a source text into a language."""
        return self.catalogs.gettext(lang, msgid)

    async def require(self, state: SessionState) -> None:
        """Make sure the flow versions a saved conversation runs on (where it is, and where it
        began, which "back" replays from) are here, so it finishes on them."""
        if self.fetch is None:
            return
        wanted = [(state.flow, state.version)]
        if len(state.origin) == 4:
            wanted.append((state.origin[0], state.origin[1]))
        missing = [(n, v) for n, v in wanted if self.registry.get(n, v) is None]
        if missing:
            await self.fetch(missing)


def load_content(flows: Path, locales: Path, *, toll_free: bool = False) -> Content:
    """Load, validate and compile; raise FlowLoadError listing every issue found.

    ``toll_free``: the screens say the help is free (``HOTLINE_TOLL_FREE``).
    """
    catalogs = Catalogs.load(locales)
    if toll_free:
        catalogs = catalogs.toll_free()
    loaded, issues, areas = _check([flows], catalogs)
    if issues:
        raise FlowLoadError(issues)
    registry = FlowRegistry((compile_flow(f) for f in loaded), answer_formats(areas))
    return Content(registry, catalogs, areas)

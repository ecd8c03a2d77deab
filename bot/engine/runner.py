"""Run flows: (flow version, saved state, input) -> (new state, turn, events). Pure: no I/O.

``0`` exits from any screen; ``00`` goes back one screen where the screen allows it (by
replaying every accepted input but the last, so scores never count twice); anything a
screen does not accept shows it again with a short hint in the person's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.actions import Scratch, apply_actions
from bot.engine.compile import QUESTION_KEYS, CompiledFlow, menu_keys
from bot.engine.model import (
    EndState,
    FlowDefinition,
    MenuState,
    QuestionState,
    TextState,
    parse_target,
)
from bot.engine.registry import FlowRegistry
from bot.engine.state import Choice, SessionState, Step, Turn, fill
from bot.i18n import ui
from bot.i18n.translate import Translate

EXIT_KEY = "0"
BACK_KEY = "00"


class UnknownFlow(LookupError):
    """A flow name that is not loaded."""


@dataclass(frozen=True)
class _Notice:
    message: str
    values: tuple[tuple[str, str], ...] = ()


class _Rejected(Exception):
    def __init__(self, notice: _Notice) -> None:
        self.notice = notice


def begin(
    registry: FlowRegistry,
    flow: str,
    lang: str,
    tr: Translate,
    *,
    notice: str | None = None,
    at: str | None = None,
    sid: str = "",
    channel: str = "",
) -> Step:
    """Start a conversation at a flow's first screen (or screen ``at``), in a language, on a
    channel (which ``channel`` conditions test)."""
    compiled = registry.get(flow)
    if compiled is None:
        raise UnknownFlow(flow)
    start = at or compiled.loaded.definition.start
    if start not in compiled.loaded.definition.states:
        raise UnknownFlow(f"{flow}:{start}")
    state = SessionState(
        flow=flow,
        version=compiled.version,
        state=start,
        lang=lang,
        origin=[flow, compiled.version, start, lang],
        sid=sid,
        channel=channel,
    )
    scratch = Scratch(state)
    _enter(compiled, scratch)
    return _finish(registry, scratch, tr, _Notice(notice) if notice else None)


def advance(registry: FlowRegistry, saved: SessionState, raw: str, tr: Translate) -> Step:
    """Apply one input to a saved conversation."""
    compiled = registry.get(saved.flow, saved.version)
    if compiled is None or saved.state not in compiled.loaded.definition.states:
        return begin(
            registry,
            saved.origin[0] if saved.origin else saved.flow,
            saved.lang,
            tr,
            notice=ui.RESTARTED,
            channel=saved.channel,
        )
    choice = raw.strip()
    if choice == EXIT_KEY:
        return Step(
            None,
            Turn(text=tr(saved.lang, ui.GOODBYE), lang=saved.lang, end=True, expects="nothing"),
        )
    if choice == BACK_KEY and _can_go_back(compiled.loaded.definition, saved):
        replayed = _replay(registry, saved.origin, saved.inputs[:-1], saved.sid, saved.channel)
        if replayed is not None:
            return _finish(registry, replayed, tr, None)
    scratch = Scratch(_copy(saved))
    scratch.state.page = 0
    try:
        notice = _apply_input(registry, scratch, raw)
    except _Rejected as rejected:
        kept = _copy(saved)
        kept.page = 0  # the hint goes above the question, on the first page
        return _finish(registry, Scratch(kept), tr, rejected.notice, events=False)
    scratch.state.inputs.append(raw)
    return _finish(registry, scratch, tr, notice)


def _copy(state: SessionState) -> SessionState:
    return SessionState(
        flow=state.flow,
        version=state.version,
        state=state.state,
        lang=state.lang,
        answers=dict(state.answers),
        scores=dict(state.scores),
        priority=state.priority,
        rule=state.rule,
        inputs=list(state.inputs),
        origin=list(state.origin),
        page=state.page,
        memo=dict(state.memo),
        sid=state.sid,
        notice=state.notice,
        channel=state.channel,
    )


def _can_go_back(definition: FlowDefinition, state: SessionState) -> bool:
    screen = definition.states[state.state]
    return bool(state.inputs) and not isinstance(screen, EndState) and screen.back


def _replay(
    registry: FlowRegistry, origin: list[str], inputs: list[str], sid: str = "", channel: str = ""
) -> Scratch | None:
    """Rebuild a conversation from where it began; None if that version is gone or inputs differ."""
    if len(origin) != 4:
        return None
    flow, version, start, lang = origin
    compiled = registry.get(flow, version)
    if compiled is None or start not in compiled.loaded.definition.states:
        return None
    scratch = Scratch(
        SessionState(flow, version, start, lang, origin=list(origin), sid=sid, channel=channel)
    )
    _enter(compiled, scratch)
    try:
        for raw in inputs:
            _apply_input(registry, scratch, raw)
            scratch.state.inputs.append(raw)
    except _Rejected:
        return None
    scratch.events.clear()
    return scratch


def _apply_input(registry: FlowRegistry, scratch: Scratch, raw: str) -> _Notice | None:
    """Record the answer, apply its actions, and move along the first branch that holds."""
    state = scratch.state
    compiled = registry.get(state.flow, state.version)
    assert compiled is not None
    screen = compiled.loaded.definition.states[state.state]
    choice = raw.strip()
    notice: _Notice | None = None
    if isinstance(screen, MenuState):
        keys = menu_keys(screen)
        if choice not in keys:
            raise _Rejected(_Notice(ui.HINT_CHOICE))
        option = screen.options[keys.index(choice)]
        if screen.record:
            state.answers[screen.record] = choice
        apply_actions(option.do, scratch)
        trigger = f"opt_{choice}"
    elif isinstance(screen, QuestionState):
        if choice not in QUESTION_KEYS:
            raise _Rejected(_Notice(ui.HINT_CHOICE))
        answer = QUESTION_KEYS[choice]
        state.answers[screen.record or state.state] = answer
        apply_actions(screen.do.get(answer, []), scratch)  # type: ignore[call-overload]
        apply_actions(screen.do.get("any", []), scratch)
        trigger = f"opt_{choice}"
    elif isinstance(screen, TextState):
        value = " ".join(raw.split())
        if not value and not screen.optional:
            raise _Rejected(_Notice(ui.HINT_TEXT))
        if len(value) > screen.max_length:
            value = value[: screen.max_length]
            notice = _Notice(ui.CUT, (("max_length", str(screen.max_length)),))
        if screen.format is not None and value:
            form = registry.formats[screen.format]
            normal = form.normalise(value)
            if normal is None:
                raise _Rejected(_Notice(form.hint))
            value, notice = normal, None
        state.answers[screen.record or state.state] = value
        apply_actions(screen.do, scratch)
        trigger = "text"
    else:
        raise _Rejected(_Notice(ui.HINT_CHOICE))
    _move(registry, compiled, scratch, trigger)
    return notice


def _move(registry: FlowRegistry, compiled: CompiledFlow, scratch: Scratch, trigger: str) -> None:
    with compiled.borrow(scratch) as model:
        moved = compiled.machine.events[trigger].trigger(model)
        destination = model.state
    if not moved:  # validation guarantees a fallback branch; stay put rather than guess
        raise _Rejected(_Notice(ui.HINT_CHOICE))
    state = scratch.state
    if destination.startswith("@"):
        flow, target = parse_target(destination[1:], state.flow)
        other = registry.get(flow)
        if other is None:
            raise UnknownFlow(flow)
        state.flow, state.version = other.name, other.version
        state.state = target or other.loaded.definition.start
        compiled = other
    else:
        state.state = destination
    _enter(compiled, scratch)


def _enter(compiled: CompiledFlow, scratch: Scratch) -> None:
    apply_actions(compiled.loaded.definition.states[scratch.state.state].on_enter, scratch)


def _finish(
    registry: FlowRegistry,
    scratch: Scratch,
    tr: Translate,
    notice: _Notice | None,
    *,
    events: bool = True,
) -> Step:
    state = scratch.state
    compiled = registry.get(state.flow, state.version)
    assert compiled is not None
    tr = registry.translate(state.flow, state.version, tr)  # the wording of this version
    turn = render(compiled.loaded.definition, state, tr)
    if notice is not None:
        turn = Turn(
            text=turn.text,
            lang=turn.lang,
            options=turn.options,
            navigation=turn.navigation,
            notice=fill(tr(state.lang, notice.message), dict(notice.values)),
            expects=turn.expects,
            max_length=turn.max_length,
            end=turn.end,
        )
    produced = tuple(scratch.events) if events else ()
    return Step(None if turn.end else state, turn, produced)


def render(definition: FlowDefinition, state: SessionState, tr: Translate) -> Turn:
    """The screen for a saved state, translated into the conversation's language."""
    screen = definition.states[state.state]
    lang = state.lang
    text = tr(lang, screen.text)
    if isinstance(screen, EndState):
        return Turn(text=text, lang=lang, expects="nothing", end=True)
    navigation = []
    if _can_go_back(definition, state):
        navigation.append(Choice(BACK_KEY, tr(lang, ui.BACK)))
    navigation.append(Choice(EXIT_KEY, tr(lang, ui.EXIT)))
    if isinstance(screen, MenuState):
        options = tuple(
            Choice(key, tr(lang, opt.label) if opt.translate else opt.label)
            for key, opt in zip(menu_keys(screen), screen.options, strict=True)
        )
        return Turn(text=text, lang=lang, options=options, navigation=tuple(navigation))
    if isinstance(screen, QuestionState):
        options = (
            Choice("1", tr(lang, ui.YES)),
            Choice("2", tr(lang, ui.NO)),
            Choice("3", tr(lang, ui.SKIP)),
        )
        return Turn(text=text, lang=lang, options=options, navigation=tuple(navigation))
    assert isinstance(screen, TextState)
    return Turn(
        text=text,
        lang=lang,
        navigation=tuple(navigation),
        expects="text",
        max_length=screen.max_length,
    )

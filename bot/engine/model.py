"""Typed model of a flow file: states (screens), options, branches, conditions and actions.

A flow file is YAML like::

    flow: main
    start: language
    states:
      language:
        type: menu
        text: Choose your language
        back: false
        options:
          - {label: English, translate: false, do: [{set_language: en}], next: menu}
      menu:
        type: menu
        text: Hotline against trafficking. Free and anonymous.
        options:
          - {label: Check my situation, next: "screening:"}
      U1:
        type: question
        text: Are you in danger right now?
        do: {yes: [{set_priority: {level: P1, rule: U1 danger now}}]}
        next: U2

A target is ``state``, ``flow:`` (another flow's start) or ``flow:state``, or a list of
branches ``[{when: CONDITION, to: TARGET}, ..., {to: TARGET}]`` tried in order.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ANSWERS = ("yes", "no", "skip")
RESERVED_KEYS = frozenset({"0", "00", "98"})

Action = dict[str, Any]
Condition = dict[str, Any]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Branch(_Strict):
    """One conditional way forward; the first branch whose condition holds is taken."""

    when: Condition | None = None
    to: str


Target = str | list[Branch]


class Option(_Strict):
    """A numbered choice on a menu."""

    key: str | None = None
    label: str
    translate: bool = True
    do: list[Action] = Field(default_factory=list)
    next: Target

    @field_validator("key", mode="before")
    @classmethod
    def _key_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value


class _State(_Strict):
    text: str
    on_enter: list[Action] = Field(default_factory=list)


class MenuState(_State):
    """A screen with numbered options; records the chosen option's key when ``record`` is set."""

    type: Literal["menu"]
    options: list[Option]
    record: str | None = None
    back: bool = True


class QuestionState(_State):
    """A Yes / No / Skip question; the answer is recorded under ``record`` (default: state name).

    ``do`` lists actions per answer; actions under ``any`` run after those of whichever answer.
    """

    type: Literal["question"]
    record: str | None = None
    do: dict[Literal["yes", "no", "skip", "any"], list[Action]] = Field(default_factory=dict)
    next: Target | dict[Literal["yes", "no", "skip"], Target]
    back: bool = True


class TextState(_State):
    """A free-text answer, cut to ``max_length`` with a notice."""

    type: Literal["text"]
    record: str | None = None
    max_length: Annotated[int, Field(gt=0, le=500)] = 140
    optional: bool = False
    format: str | None = None
    """A registered format the answer must have (e.g. ``reference``); it is stored normalised."""
    do: list[Action] = Field(default_factory=list)
    next: Target
    back: bool = True


class EndState(_State):
    """The last screen of a conversation."""

    type: Literal["end"]


class AreaState(_State):
    """Where something happens, picked level by level from the areas data file.

    The loader expands it into one menu per level (country, then province or region, then
    territory or district); ``text`` asks for the country and ``prompts`` holds the question for
    each lower level kind the data uses. The chosen area's code (e.g. ``cd-kwilu-kikwit``) is
    recorded under ``record``; ``unknown`` is the label that stops at the level above.
    """

    type: Literal["area"]
    record: str = "area"
    prompts: dict[str, str]
    unknown: str
    next: Target
    back: bool = True


State = Annotated[
    MenuState | QuestionState | TextState | EndState | AreaState, Field(discriminator="type")
]
Screen = MenuState | QuestionState | TextState | EndState
"""A state as the runner sees it, once area states are expanded into menus."""


class FlowDefinition(_Strict):
    """A whole flow file."""

    flow: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    title: str = ""
    start: str
    states: dict[str, State]

    @model_validator(mode="after")
    def _start_exists(self) -> FlowDefinition:
        if self.start not in self.states:
            raise ValueError(f"start state '{self.start}' is not defined")
        return self


def parse_target(target: str, current_flow: str) -> tuple[str, str | None]:
    """Split ``flow:state`` / ``flow:`` / ``state`` into (flow, state or None for its start)."""
    if ":" in target:
        flow, _, state = target.partition(":")
        return flow, state or None
    return current_flow, target


def branches(target: Target) -> list[Branch]:
    """Normalise a target to its list of branches."""
    if isinstance(target, str):
        return [Branch(to=target)]
    return list(target)

"""A draft checked as ``hotline flows check`` checks the files: with the other flows' published
versions, every channel's screens in every language; and the draft run among them (preview)."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session

from bot.content.assemble import Base, digest_of, loaded_version, parse, screen_texts, source_name
from bot.content.drafts import get_draft, resolve
from bot.content.files import Content, check_loaded
from bot.content.store import MISSING, TRANSLATED, Translations, Version, published
from bot.engine.compile import compile_flow
from bot.engine.formats import answer_formats
from bot.engine.loader import FlowIssue, FlowLoadError
from bot.engine.registry import FlowRegistry


class NotPublishable(Exception):
    """A draft that may not be published: every issue, at its state and language."""

    def __init__(self, issues: list[FlowIssue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


def others(session: Session, flow: str) -> list[Version]:
    return [v for v in published(session) if v.flow != flow]


def check_text(
    flow: str,
    number: int | None,
    source: str,
    translations: Translations,
    others: list[Version],
    base: Base,
) -> list[FlowIssue]:
    """Every issue of one flow text checked with the other flows' published versions."""
    name = source_name(flow, number)
    try:
        mine = parse(source, name, base.areas)
    except FlowLoadError as exc:
        return exc.issues
    if mine.name != flow:
        return [FlowIssue(name, f"the flow is named {mine.name!r} here, not {flow!r}")]
    loaded = [mine]
    issues: list[FlowIssue] = []
    for other in others:
        try:
            loaded.append(loaded_version(other, base.areas))
        except FlowLoadError as exc:
            issues.extend(exc.issues)
    catalogs = base.catalogs([*(o.translations for o in others), translations])
    issues.extend(check_loaded(loaded, catalogs, base.areas, texts_of={flow}))
    seen = {(i.state, i.lang, i.reason) for i in issues}
    for state, text in screen_texts(mine):  # its own translations, whatever other flows have
        for lang in TRANSLATED:
            if not translations.get(lang, {}).get(text, MISSING).finished:
                reason = f"missing translation of {text!r}"
                if (state, lang, reason) not in seen:
                    seen.add((state, lang, reason))
                    issues.append(FlowIssue(name, reason, state, lang, mine.lines.get(state)))
    return issues


def draft_issues(session: Session, flow: str, base: Base | None = None) -> list[FlowIssue]:
    """Why the draft may not be published (empty: it may): the checks of ``hotline flows
    check`` run with the other flows' published versions, each issue at its state and language."""
    draft = get_draft(session, flow)
    return check_text(
        flow, None, draft.source, draft.translations, others(session, flow), resolve(base)
    )


def draft_content(session: Session, flow: str, base: Base | None = None) -> Content:
    """The published set with this flow's draft in its place, for the preview. Raises
    FlowLoadError when it cannot run (does not parse, a broken structure or placeholder); a
    missing translation shows English, an overflowing screen shows as it is."""
    base = resolve(base)
    draft = get_draft(session, flow)
    published_others = others(session, flow)
    issues = [
        i
        for i in check_text(flow, None, draft.source, draft.translations, published_others, base)
        if i.lang is None
    ]
    if issues:
        raise FlowLoadError(issues)
    mine = parse(draft.source, source_name(flow, None), base.areas)
    mine = replace(mine, version=digest_of(mine, draft.translations))
    loaded = [mine, *(loaded_version(o, base.areas) for o in published_others)]
    catalogs = base.catalogs([*(o.translations for o in published_others), draft.translations])
    registry = FlowRegistry((compile_flow(f) for f in loaded), answer_formats(base.areas))
    return Content(registry, catalogs, base.areas)

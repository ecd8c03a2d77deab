"""The content a process serves: the files' until something is published, then the published
set; a conversation finishes on the version (wording and translations) it started on, loaded
from the database by a process that lacks it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

import pytest
from sqlalchemy.engine import Engine

from bot.channels.ussd.render import UssdRenderer
from bot.content.files import Content
from bot.content.snapshot import DatabaseVersions, Snapshot, StoredFlow, stored_versions
from bot.conversation.service import Conversations
from bot.engine.state import Event
from bot.sessions import MemorySessionStore
from tests.content.stored import (
    MAIN_SOURCE,
    NEW,
    NEW_WORDING,
    OLD_WORDING,
    RETRANSLATED,
    FakeVersions,
    main_version,
    write_version,
)

LANG_KEY = {"en": "1", "fr": "2", "ln": "3", "st": "4"}


class NoSink:
    """Nothing in these conversations reaches the cases service."""

    async def handle(
        self, events: Sequence[Event], *, channel: str, contact: str, address: str | None = None
    ) -> dict[str, str]:
        return {}


class Process:
    """One app process's share of the work: its snapshot and its conversations (the session
    store is shared, as Redis is between processes)."""

    def __init__(self, base: Content, source: FakeVersions | None, store: MemorySessionStore):
        self.snapshot = Snapshot(base, source)
        content = self.snapshot.current()
        self.conversations = Conversations(content, store, NoSink())
        self.ussd = UssdRenderer(content.tr)

    async def menu(self, key: str, lang: str) -> str:
        """A new conversation, its language chosen: the main menu's text."""
        await self.conversations.start(key, self.ussd, "en")
        return await self.send(key, LANG_KEY[lang])

    async def send(self, key: str, text: str) -> str:
        return (await self.conversations.reply(key, text, self.ussd, "en")).text


@pytest.fixture
def source() -> FakeVersions:
    return FakeVersions()


@pytest.fixture
def store() -> MemorySessionStore:
    return MemorySessionStore()


@pytest.fixture
def process(shipped_content: Content, source: FakeVersions, store: MemorySessionStore) -> Process:
    return Process(shipped_content, source, store)


def first_option(screen: str) -> str:
    """The main menu's first option, without its number."""
    line = next(row for row in screen.split("\n") if row.startswith("1 "))
    return line.removeprefix("1 ")


async def test_before_anything_is_published_the_process_serves_its_files(
    process: Process, source: FakeVersions, shipped_content: Content
) -> None:
    await process.snapshot.refresh()  # nothing in the database yet
    assert not await process.snapshot.refresh()  # nor since
    assert first_option(await process.menu("ussd:a", "en")) == OLD_WORDING["en"]
    assert process.snapshot.current().registry.get("main") is shipped_content.registry.get("main")


async def test_the_files_version_stored_as_version_1_is_not_compiled_again(
    shipped_content: Content, source: FakeVersions, store: MemorySessionStore
) -> None:
    shipped = shipped_content.registry.get("main")
    assert shipped is not None
    source.publish(StoredFlow("main", 1, "main-v1", MAIN_SOURCE, {}))  # the seed
    process = Process(shipped_content, source, store)
    process.snapshot = Snapshot(shipped_content, source, digests={"main": "main-v1"})
    await process.snapshot.refresh()
    main = process.snapshot.current().registry.get("main")
    assert main is not None and main.version == "main-v1"
    assert main.machine is shipped.machine  # the files' compiled flow, under its stored name


@pytest.mark.parametrize("lang", ["en", "fr", "ln", "st"])
async def test_a_conversation_started_before_a_publish_finishes_on_its_wording(
    process: Process, source: FakeVersions, lang: str
) -> None:
    before = first_option(await process.menu("ussd:before", lang))
    source.publish(main_version(2))
    assert await process.snapshot.refresh()
    after = first_option(await process.menu("ussd:after", lang))
    assert (before, after) == (OLD_WORDING[lang], NEW_WORDING[lang])
    # The earlier conversation, answered wrongly, shows its menu again: still its wording.
    again = await process.send("ussd:before", "9")
    assert first_option(again) == OLD_WORDING[lang]


async def test_a_translation_only_change_is_pinned_too(
    process: Process, source: FakeVersions
) -> None:
    source.publish(main_version(2))
    await process.snapshot.refresh()
    before = first_option(await process.menu("ussd:before", "fr"))
    source.publish(main_version(3))  # the same English, French translated anew
    await process.snapshot.refresh()
    after = first_option(await process.menu("ussd:after", "fr"))
    assert (before, after) == (NEW_WORDING["fr"], RETRANSLATED["fr"])
    assert first_option(await process.send("ussd:before", "9")) == NEW_WORDING["fr"]
    assert first_option(await process.menu("ussd:en", "en")) == NEW  # English as version 2


async def test_a_process_that_lacks_a_version_loads_it_once_from_the_database(
    shipped_content: Content, source: FakeVersions, store: MemorySessionStore
) -> None:
    first = Process(shipped_content, source, store)
    source.publish(main_version(2))
    await first.snapshot.refresh()
    await first.menu("ussd:1", "st")
    await first.menu("ussd:2", "st")
    source.publish(main_version(3))
    later = Process(shipped_content, source, store)  # started after: never had version 2
    await later.snapshot.refresh()
    screens = await asyncio.gather(*(later.send(key, "9") for key in ("ussd:1", "ussd:2")))
    assert [first_option(s) for s in screens] == [NEW_WORDING["st"]] * 2
    assert source.asked == [("main", "main-v2")]  # loaded once, compiled once, kept
    assert first_option(await later.menu("ussd:3", "st")) == RETRANSLATED["st"]


async def test_a_version_no_one_has_starts_the_conversation_again_politely(
    process: Process, store: MemorySessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    await process.menu("ussd:gone", "en")
    saved = await store.get("ussd:gone")
    assert saved is not None
    await store.set("ussd:gone", {**saved, "version": "vanished"}, 300)
    screen = await process.send("ussd:gone", "1")
    assert "Your last session had ended" in screen
    assert "no stored version vanished of flow main" in caplog.text


async def test_a_jump_to_another_flow_takes_its_published_version(
    process: Process, source: FakeVersions, shipped_content: Content
) -> None:
    await process.menu("ussd:jump", "en")
    helped = replace(_help_version(), number=2)
    source.publish(helped)
    await process.snapshot.refresh()
    screen = await process.send("ussd:jump", "4")  # Get help now: the help flow
    assert screen.startswith("Call us now:")


def _help_version() -> StoredFlow:
    from tests.content.stored import ROOT

    text = (ROOT / "flows" / "help.yaml").read_text(encoding="utf-8")
    changed = text.replace('text: "Call the hotline:', 'text: "Call us now:')
    assert changed != text
    return StoredFlow("help", 2, "help-v2", changed, {})


async def test_a_toll_free_deployment_keeps_saying_free_where_the_files_do(
    shipped_content: Content, source: FakeVersions, store: MemorySessionStore
) -> None:
    free = replace(shipped_content, catalogs=shipped_content.catalogs.toll_free())
    process = Process(free, source, store)
    menu = "{hotline_name}. You need not give your name."
    version = main_version(2)
    texts = {lang: {**entries, menu: "NOT FREE"} for lang, entries in version.texts.items()}
    source.publish(replace(version, texts=texts))
    await process.snapshot.refresh()
    screen = await process.menu("ussd:free", "fr")
    assert "NOT FREE" not in screen and "Gratuit" in screen


async def test_a_stored_version_that_no_longer_loads_leaves_the_flow_as_it_was(
    process: Process, source: FakeVersions, caplog: pytest.LogCaptureFixture
) -> None:
    source.publish(StoredFlow("main", 2, "main-broken", "flow: main\nstates: [", {}))
    await process.snapshot.refresh()
    assert first_option(await process.menu("ussd:kept", "en")) == OLD_WORDING["en"]
    assert "stored main v2 does not load" in caplog.text


def test_the_database_source_reads_what_a_publish_stored(engine: Engine) -> None:
    versions = stored_versions(engine)
    assert isinstance(versions, DatabaseVersions)
    assert (versions.generation(), versions.published()) == (0, [])
    assert write_version(engine, main_version(2)) == 1
    assert write_version(engine, main_version(3)) == 2
    assert versions.generation() == 2
    assert [(v.flow, v.number, v.texts["fr"]) for v in versions.published()] == [
        ("main", 3, {NEW: RETRANSLATED["fr"]})
    ]
    older = versions.by_digest("main", "main-v2")
    assert older is not None and older.texts["ln"] == {NEW: NEW_WORDING["ln"]}
    assert versions.by_digest("main", "nothing") is None


async def test_a_refresh_with_the_database_away_is_logged_and_changes_nothing(
    shipped_content: Content, caplog: pytest.LogCaptureFixture
) -> None:
    class Away(FakeVersions):
        def generation(self) -> int:
            raise ConnectionError("database unavailable")

    snapshot = Snapshot(shipped_content, Away())
    with pytest.raises(ConnectionError):
        await snapshot.refresh()
    assert snapshot.current().registry.get("main") is shipped_content.registry.get("main")

"""Sealed sessions: nothing a person typed, chose or was shown sits in clear in the store.

The unit tests drive ``Sealer`` and both backends; the end-to-end ones walk a whole tip with a
narrative over the USSD endpoint on a real Redis (keys under a prefix of this test's own) and
read every key it made.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from uuid import uuid4

import pytest
import redis

import bot.app
from bot.channels.telegram.render import TelegramRenderer
from bot.channels.ussd.routes import session_key
from bot.content.files import Content
from bot.conversation.service import Conversations
from bot.core.privacy import Cipher, new_key
from bot.engine.state import Event
from bot.i18n import ui
from bot.sessions import MemorySessionStore, RedisSessionStore, SessionStore
from bot.sessions.base import STATE_CONTEXT, Sealer
from tests.channels.ussd.test_routes import Line, make_settings, new_session
from tests.channels.ussd.test_routes import running as running_line
from tests.conftest import REDIS_URL, assert_no_phone_numbers, reachable_redis
from tests.flows.test_ussd_paths import TIP, cases
from tests.sessions.conftest import CIPHER

STATE = {"flow": "tip", "answers": {"details": "Men carry heavy bags at night"}, "inputs": ["1"]}
NARRATIVE = "Men carry heavy bags at night near the market"


def _raw(store: SessionStore, key: str) -> str:
    """What the backend really keeps for a session (white-box for the in-process store)."""
    if isinstance(store, MemorySessionStore):
        return store._sessions[key][1]
    assert isinstance(store, RedisSessionStore)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        value = client.get(store.session_key(key))
    finally:
        client.close()
    assert isinstance(value, bytes)
    return value.decode()


async def _put_raw(store: SessionStore, key: str, raw: str) -> None:
    """Overwrite what the backend keeps for a session, as someone with access to it could."""
    if isinstance(store, MemorySessionStore):
        expires, _ = store._sessions[key]
        store._sessions[key] = (expires, raw)
        return
    assert isinstance(store, RedisSessionStore)
    await store.client.set(store.session_key(key), raw, ex=60)


def _tampered(token: str) -> str:
    """The same token with one character of its ciphertext changed."""
    i = len(token) - 10
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


# --- the sealer -------------------------------------------------------------------------------


def test_a_sealed_session_opens_only_under_its_own_key() -> None:
    sealer = Sealer(CIPHER)
    token = sealer.seal_state("ussd:a", json.dumps(STATE))
    assert "Men carry" not in token and "answers" not in token
    assert sealer.open_state("ussd:a", token) == STATE
    assert sealer.open_state("ussd:b", token) is None, "moved to another session"
    assert sealer.open_note("ussd:a", token) is None, "moved to a note"


def test_an_altered_or_foreign_value_is_refused_and_logged_without_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sealer = Sealer(CIPHER)
    token = sealer.seal_state("ussd:a", json.dumps(STATE))
    caplog.set_level(logging.WARNING)
    assert sealer.open_state("ussd:a", _tampered(token)) is None
    assert sealer.open_state("ussd:a", json.dumps(STATE)) is None, "a value in clear is refused"
    assert sealer.open_state("ussd:a", b"\xff\xfe") is None
    assert Sealer(Cipher((new_key(),))).open_state("ussd:a", token) is None, "another app's key"
    assert len(caplog.records) == 4
    assert "Men carry" not in caplog.text and token not in caplog.text


def test_rotated_keys_keep_opening_what_the_old_key_sealed() -> None:
    """``hotline keys rotate``: the new key first, the old one kept; dropping it too early
    refuses (the session starts again) rather than failing."""
    old, new = new_key(), new_key()
    token = Sealer(Cipher((old,))).seal_note("lang:x", "ln")
    rotated = Sealer(Cipher((new, old)))
    assert rotated.open_note("lang:x", token) == "ln"
    resealed = rotated.seal_note("lang:x", "ln")
    assert rotated.cipher.is_current(resealed) and not rotated.cipher.is_current(token)
    assert Sealer(Cipher((new,))).open_note("lang:x", token) is None


# --- both backends ------------------------------------------------------------------------------


async def test_sessions_and_notes_are_kept_sealed(store: SessionStore) -> None:
    await store.set("ussd:abc", STATE, ttl=60)
    async with store.hold("ussd:def", recall=["lang:n"]) as held:
        held.save(STATE, 60)
        held.remember("lang:n", "st", 60)
    for key in ("ussd:abc", "ussd:def"):
        raw = _raw(store, key)
        assert raw.startswith("v1.") and "Men carry" not in raw and "answers" not in raw
        if isinstance(store, RedisSessionStore):  # sealed with the keys it was given
            assert json.loads(CIPHER.decrypt(raw, f"{STATE_CONTEXT}:{key}")) == STATE
    assert await store.get("ussd:def") == STATE
    assert await store.recall("lang:n") == "st"


async def test_an_altered_session_reads_as_none(store: SessionStore) -> None:
    """Tampered with, or copied from another session: refused; the conversation starts again."""
    await store.set("ussd:abc", STATE, ttl=60)
    await store.set("ussd:def", {"flow": "main"}, ttl=60)
    sealed = _raw(store, "ussd:abc")
    await _put_raw(store, "ussd:abc", _tampered(sealed))
    assert await store.get("ussd:abc") is None
    await _put_raw(store, "ussd:def", sealed)  # moved to another key
    async with store.hold("ussd:def") as held:
        assert held.value is None


async def test_an_old_key_still_opens_after_rotation_on_redis() -> None:
    """Processes restarted with ``new,old`` read what ``old`` sealed; a process given only
    the new key reads nothing (no error)."""
    reachable_redis()
    old, new = new_key(), new_key()
    prefix = f"test:{uuid4().hex}:"
    before = RedisSessionStore(REDIS_URL, cipher=Cipher((old,)), prefix=prefix)
    after = RedisSessionStore(REDIS_URL, cipher=Cipher((new, old)), prefix=prefix)
    dropped = RedisSessionStore(REDIS_URL, cipher=Cipher((new,)), prefix=prefix)
    try:
        await before.set("ussd:abc", STATE, ttl=60)
        await before.remember("lang:abc", "fr", ttl=60)
        async with after.hold("ussd:abc", recall=["lang:abc"]) as held:
            assert held.value == STATE and held.notes == {"lang:abc": "fr"}
        assert await dropped.get("ussd:abc") is None
        assert await dropped.recall("lang:abc") is None
    finally:
        keys = [k async for k in before.client.scan_iter(match=f"{prefix}*")]
        if keys:
            await before.client.delete(*keys)
        for store in (before, after, dropped):
            await store.close()


class KeepNothing:
    """A cases service stand-in: nothing to commit in these conversations."""

    async def handle(
        self, events: Sequence[Event], *, channel: str, contact: str, address: str | None = None
    ) -> dict[str, str]:
        return {}


async def test_an_altered_conversation_restarts_politely(
    store: SessionStore, shipped_content: Content
) -> None:
    """Telegram and SMS: a tampered state is a lost one; the person is told it started again."""
    conversations = Conversations(shipped_content, store, KeepNothing())
    renderer = TelegramRenderer(shipped_content.tr)
    await conversations.start("telegram:x", renderer, "en")
    await conversations.reply("telegram:x", "1", renderer, "en")  # English: the main menu
    await _put_raw(store, "telegram:x", _tampered(_raw(store, "telegram:x")))
    screen = await conversations.reply("telegram:x", "2", renderer, "en")
    assert shipped_content.tr("en", ui.RESTARTED) in screen.text
    assert await store.get("telegram:x") is not None, "a new conversation, sealed"


# --- over the USSD endpoint, on a real Redis ----------------------------------------------------


@pytest.fixture
def prefix(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app's session store on the test Redis under a prefix of this test's own (the app
    uses ``hotline:``, shared by every test), and every key under it removed afterwards."""
    reachable_redis()
    chosen = f"test:{uuid4().hex}:"

    def make_store(url: str | None, *, cipher: Cipher) -> SessionStore:
        assert url
        return RedisSessionStore(url, cipher=cipher, prefix=chosen)

    monkeypatch.setattr(bot.app, "make_store", make_store)
    yield chosen
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{chosen}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def line(tmp_path: Path, prefix: str) -> Iterator[Line]:
    settings = make_settings(tmp_path, redis_url=REDIS_URL, language_memory_days=7)
    with running_line(settings) as started:
        yield started


def dump(prefix: str) -> dict[str, bytes]:
    """Every key this test's store made, with its value."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        found: dict[str, bytes] = {}
        for key in client.scan_iter(match=f"{prefix}*"):
            value = client.get(key)
            assert isinstance(value, bytes)
            found[key.decode()] = value
        return found
    finally:
        client.close()


def assert_nothing_in_clear(stored: dict[str, bytes]) -> None:
    text = repr(stored)
    assert NARRATIVE not in text and "Men carry" not in text
    for word in ("answers", "inputs", "request", "flow", "Kikwit"):
        assert word not in text, word
    assert_no_phone_numbers(text)


def test_a_tip_with_a_narrative_leaves_nothing_in_clear_and_no_state_after_its_end(
    line: Line, prefix: str
) -> None:
    sid = new_session()
    inputs = ["1", *TIP]
    texts = ["*".join(inputs[:i]) for i in range(len(inputs) + 1)]
    described = inputs.index(NARRATIVE) + 1
    for text in texts[: described + 1]:
        line.screen(sid, text)
    during = dump(prefix)
    assert f"{prefix}session:{session_key(sid)}" in during
    assert any(key.startswith(f"{prefix}note:") for key in during), "the language is remembered"
    assert_nothing_in_clear(during)
    cipher: Cipher = line.app.state.cipher
    state = json.loads(
        cipher.decrypt(
            during[f"{prefix}session:{session_key(sid)}"].decode(),
            f"{STATE_CONTEXT}:{session_key(sid)}",
        )
    )
    assert NARRATIVE in json.dumps(state), "sealed, the state is all there"

    for text in texts[described + 1 :]:
        final = line.screen(sid, text)
    assert final.startswith("END ")
    after = dump(prefix)
    assert_nothing_in_clear(after)
    kept = line.stored(sid)
    assert kept is not None and set(kept) == {"memo"}, "only the answer to replay remains"
    memo = kept["memo"]
    assert "request" not in memo, "of the request (every input) only a digest is kept"
    assert {"screen", "end", "page", "pages", "digest"} <= set(memo)
    assert set(memo) <= {"screen", "end", "page", "pages", "digest", "seen"}, "screens only"
    assert memo["screen"] in final
    assert NARRATIVE not in json.dumps(kept) and "Men carry" not in json.dumps(kept)

    assert line.screen(sid, texts[-1]) == final, "the final request again gets the same END"
    assert len(cases(line)) == 1
    assert line.end(sid).status_code == 200
    assert f"{prefix}session:{session_key(sid)}" not in dump(prefix)


def test_a_tampered_session_restarts_politely(
    line: Line, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    sid = new_session()
    line.screen(sid, "")
    line.screen(sid, "1")
    key = f"{prefix}session:{session_key(sid)}"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        sealed = client.get(key)
        assert isinstance(sealed, bytes)
        client.set(key, _tampered(sealed.decode()), ex=60)
    finally:
        client.close()
    caplog.set_level(logging.WARNING)
    response = line.post(sid, "1*1")
    assert response.status_code == 200
    assert response.text.startswith(("CON ", "END "))
    assert "refused" in caplog.text and sealed.decode() not in caplog.text
    assert line.stored(sid) is not None, "the session goes on, sealed anew"

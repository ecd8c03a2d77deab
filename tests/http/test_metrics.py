"""``/metrics``: behind its token, the series an on-call engineer needs, no personal data.

The privacy test drives real traffic through USSD, SMS, Telegram (the fake Bot API) and the
JSON API on one app, lets its in-process worker deliver, then reads every label of every series
and every captured log line for phone numbers, Telegram ids, case references and tokens.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import respx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.auth import passwords
from bot.cases.escalation import sweep
from bot.core.clock import utcnow
from bot.core.logconfig import JsonFormatter
from bot.core.privacy import Cipher
from bot.core.settings import ROOT
from bot.models import Case, Operator, Shift
from bot.outbox import queue
from tests.api import FAST_HASHER, PASSWORD, PASSWORD_HASH
from tests.channels.telegram.fake import SECRET, TOKEN, USER, TelegramHotline, starter
from tests.conftest import CALLBACK_TOKEN, TEST_PHONES, make_app, make_settings

METRICS_TOKEN = "metrics-token-for-tests-0123456789"
BEARER = {"Authorization": f"Bearer {METRICS_TOKEN}"}
USSD = f"/ussd/africastalking/{CALLBACK_TOKEN}"
SMS = f"/sms/africastalking/{CALLBACK_TOKEN}"
REFERENCE = re.compile(r"[A-Z0-9]{4}-[0-9]{2}")
SAFE_LABEL = re.compile(r"[A-Za-z0-9_./{}+-]*")
"""What a label value may be made of: names, route templates, numbers of buckets, digests."""


def series(text: str) -> dict[str, list[dict[str, str]]]:
    """Each sample name of an exposition and the labels of its samples."""
    found: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(dict(sample.labels))
    return found


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples with these labels (0 when none): other tests of this process
    may have added series of their own (another status of the same route)."""
    return sum(
        float(sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def test_metrics_are_not_served_unless_a_token_is_set(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    with TestClient(make_app(make_settings(tmp_path))) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers=BEARER).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {METRICS_TOKEN}", "Bearer"])
def test_metrics_need_the_bearer_token(tmp_path: Path, header: str | None) -> None:
    from fastapi.testclient import TestClient

    app = make_app(make_settings(tmp_path, metrics_token=METRICS_TOKEN))
    with TestClient(app) as client:
        headers = {} if header is None else {"Authorization": header}
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert "hotline_" not in refused.text
        assert refused.headers["www-authenticate"].startswith("Bearer")
        allowed = client.get("/metrics", headers=BEARER)
        assert allowed.status_code == 200
        assert allowed.headers["content-type"].startswith("text/plain")
        assert "hotline_outbox_pending" in allowed.text


@pytest.fixture
def start(
    tmp_path: Path, router: respx.MockRouter, database_url: str
) -> Iterator[Callable[..., TelegramHotline]]:
    yield from starter(tmp_path, router, database_url)


def on_call_now(engine: Engine, cipher: Cipher) -> None:
    """Three of the team with on-call phones (the test numbers) on a shift running now."""
    now = utcnow()
    with Session(engine) as session:
        ids: list[int] = []
        for (name, role), phone in zip(
            [("amani", "operator"), ("lerato", "operator"), ("joseph", "supervisor")],
            TEST_PHONES,
            strict=True,
        ):
            operator = Operator(
                username=name,
                display_name=name.title(),
                role=role,
                lang="en",
                phone=cipher.encrypt(phone, "operator.phone"),
                password_hash=PASSWORD_HASH,
            )
            session.add(operator)
            session.flush()
            assert operator.id is not None
            ids.append(operator.id)
        session.add(
            Shift(
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=48),
                primary_id=ids[0],
                backup_id=ids[1],
                supervisor_id=ids[2],
            )
        )
        session.commit()


def wait_delivered(hotline: TelegramHotline, timeout: float = 30.0) -> None:
    """Until the in-process worker has sent every message it can."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = queue.counts(hotline.app.state.engine)
        if counts["pending"] == 0 and counts["sending"] == 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"outbox not delivered: {queue.counts(hotline.app.state.engine)}")


def test_no_label_and_no_log_line_carries_personal_data(
    start: Callable[..., TelegramHotline],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(passwords, "HASHER", FAST_HASHER)
    caplog.set_level(logging.WARNING, logger="httpx")  # the test client's own URL lines
    caplog.set_level(logging.WARNING, logger="httpx2")
    caplog.set_level(logging.DEBUG)  # every line of the app (set_level sets the capture's too)
    hotline = start(
        flows_dir=ROOT / "flows", locales_dir=ROOT / "locales", metrics_token=METRICS_TOKEN
    )
    client, engine = hotline.client, hotline.app.state.engine
    on_call_now(engine, hotline.app.state.cipher)
    before = client.get("/metrics", headers=BEARER).text

    # USSD: English, get help, a call back in the morning by phone: a case with a reference.
    for text in ("", "1", "1*4", "1*4*1", "1*4*1*1", "1*4*1*1*1"):
        form = {
            "sessionId": "ATUid_metrics_1",
            "serviceCode": "*384*1#",
            "phoneNumber": TEST_PHONES[0],
            "networkCode": "63001",
            "text": text,
        }
        assert client.post(USSD, data=form).status_code == 200
    # SMS: HELP, get help, a call back: another case.
    for number, text in enumerate(("HELP", "4", "1", "1", "1")):
        form = {"from": TEST_PHONES[1], "to": "12345", "text": text, "id": f"ATXid_m{number}"}
        form.update(date="2026-11-22 07:00:00", linkId="")
        assert client.post(SMS, data=form).status_code == 200
    # Telegram: a person starts the bot and answers.
    hotline.send("/start")
    hotline.send("hello")
    # The JSON API: sign in, the queue, a case by its reference, acknowledge it.
    with Session(engine) as session:
        references = [case.reference for case in session.exec(select(Case)).all()]
    assert len(references) == 2, "a case per channel that files one"
    login = client.post("/api/login", json={"username": "joseph", "password": PASSWORD})
    assert login.status_code == 200, login.text
    api_token = login.json()["token"]
    auth = {"Authorization": f"Bearer {api_token}"}
    assert client.get("/api/queue", headers=auth).status_code == 200
    reading = client.get(f"/api/cases/{references[0]}?reason=on+call", headers=auth)
    assert reading.status_code == 200, reading.text
    assert client.post(f"/api/cases/{references[0]}/ack", headers=auth).status_code == 200
    # The escalation ladder on the other case (as the worker's loop runs it): nobody
    # acknowledges, the primary then the backup are paged by SMS.
    state = hotline.app.state
    for hours in (25, 26):  # past the P2 triage target (24 h), then past the primary's turn
        sweep(engine, state.cipher, state.content.tr, now=utcnow() + timedelta(hours=hours))
    wait_delivered(hotline)
    hotline.app.state.metrics.gauges.read_at = None  # the gauges' few seconds of cache are over
    scraped = client.get("/metrics", headers=BEARER).text

    secrets = [CALLBACK_TOKEN, SECRET, TOKEN.split(":")[1], api_token, METRICS_TOKEN]
    forbidden = [*(p.lstrip("+") for p in TEST_PHONES), str(USER), *references, *secrets]
    found = series(scraped)
    for name, samples in found.items():
        for labels in samples:
            for label_value in labels.values():
                assert SAFE_LABEL.fullmatch(label_value), (name, label_value)
                assert not REFERENCE.search(label_value), (name, label_value)
                if name != "hotline_flow_version_info":  # a digest: hex, may hold digits in a row
                    assert not re.search(r"[0-9]{8}", label_value), (name, label_value)
                else:
                    assert re.fullmatch(r"[0-9a-f]{12}|[a-z_]+", label_value), label_value
                for word in forbidden:
                    assert word not in label_value, (name, label_value)
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert any('"route": "/api/cases/{ref}"' in line for line in lines), "access lines read"
    logged = "\n".join([*lines, caplog.text])
    for word in forbidden:
        assert word not in logged, f"{word!r} was logged"

    # The series an on-call engineer reads, from this traffic.
    requests = "hotline_http_requests_total"
    for channel, route in [
        ("ussd", "/ussd/africastalking/{token}"),
        ("sms", "/sms/africastalking/{token}"),
        ("telegram", "/telegram/webhook"),
        ("api", "/api/cases/{ref}"),
    ]:
        grew = value(scraped, requests, channel=channel, route=route) - value(
            before, requests, channel=channel, route=route
        )
        assert grew >= 1, (channel, route)
    assert "hotline_http_request_duration_seconds_bucket" in found
    created = "hotline_cases_created_total"
    assert sum(value(scraped, created, channel=c) - value(before, created, channel=c)
               for c in ("ussd", "sms")) == 2  # fmt: skip
    assert value(scraped, "hotline_sessions_active", channel="telegram") >= 1
    assert {"channel": "sms"} in found["hotline_outbox_pending"]
    assert {"channel": "telegram"} in found["hotline_outbox_oldest_due_seconds"]
    assert value(scraped, "hotline_outbox_deliveries_total", channel="sms", outcome="sent") >= 1
    assert {s["flow"] for s in found["hotline_flow_version_info"]} >= {"main", "help", "tip"}
    for name in ("hotline_workers_alive", "hotline_escalation_oldest_due_seconds"):
        assert name in found
    assert value(scraped, "hotline_state_up") == 1.0
    escalated = "hotline_escalations_total"
    for level in ("primary", "backup"):
        assert value(scraped, escalated, level=level) > value(before, escalated, level=level)
    alerts = [line for line in lines if '"purpose": "alert"' in line]
    assert alerts, "alert deliveries were logged (and checked above)"

"""Headers read from the scope as Starlette would read them."""

from __future__ import annotations

from starlette.datastructures import Headers

from bot.http.scope import header


def test_a_header_is_read_as_starlette_reads_it() -> None:
    scope = {
        "type": "http",
        "headers": [
            (b"accept-encoding", b"gzip, br"),
            (b"x-request-id", b"first-12345"),
            (b"x-request-id", b"second-1234"),
            (b"x-note", "caf\u00e9".encode("latin-1")),
        ],
    }
    for name in ("accept-encoding", "x-request-id", "x-note", "missing"):
        assert header(scope, name.encode()) == Headers(scope=scope).get(name)
    assert header({"type": "http"}, b"accept-encoding") is None

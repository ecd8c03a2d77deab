"""Page weight as DESIGN §11 budgets it: the gzip-compressed size of everything a load fetches.

A ``Meter`` listens to a page's responses (HTML, CSS, JS, fonts, images, htmx fragments): a body
the server sent gzip-compressed counts as it came over the wire; any other is gzipped here (at
the server's level), so the figure holds whether the app or a proxy in front compresses.
Server-sent event streams never end, so their bodies are not read: what they carry is counted
in the page (``sse_bytes``) by wrapping ``EventSource`` before any script.
"""

from __future__ import annotations

import gzip
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, Request, Response

KB = 1024
STREAM = "text/event-stream"

COUNT_SSE = """
(() => {
  window.__sseBytes = 0;
  const Original = window.EventSource;
  if (!Original) return;
  const count = (e) => { window.__sseBytes += new Blob([e.data || ""]).size; };
  function Counted(url, options) {
    const source = new Original(url, options);
    const listen = source.addEventListener.bind(source);
    const counted = new Set(["message", "open", "error"]);
    listen("message", count);
    source.addEventListener = (type, handler, opts) => {
      if (!counted.has(type)) { counted.add(type); listen(type, count); }
      return listen(type, handler, opts);
    };
    return source;
  }
  Counted.prototype = Original.prototype;
  Object.assign(Counted, {CONNECTING: 0, OPEN: 1, CLOSED: 2});
  window.EventSource = Counted;
})();
"""
"""Counts the bytes of every server-sent event the page receives (window.__sseBytes)."""


@dataclass(frozen=True)
class Fetched:
    """One response of a load: its address, type and sizes (raw and gzip-compressed)."""

    url: str
    content_type: str
    raw: int
    gzipped: int


def gzipped_size(body: bytes) -> int:
    """The size of ``body`` gzip-compressed at level 6 (the app's, and most servers' default)."""
    return len(gzip.compress(body, compresslevel=6, mtime=0))


def weigh(response: Response) -> Fetched:
    """One response's sizes: raw, and gzip-compressed (as sent, when the server compressed it)."""
    status = response.status
    body = b"" if status in (204, 304) or 300 <= status < 400 else response.body()
    sent = -1
    if response.headers.get("content-encoding", "") == "gzip":
        sent = response.request.sizes()["responseBodySize"]  # -1 or 0 when not from the network
    if sent <= 0:
        sent = gzipped_size(body)
    return Fetched(response.url, response.headers.get("content-type", ""), len(body), sent)


@dataclass
class Meter:
    """What a page fetched since ``start()`` (event streams aside), and how heavy it was."""

    page: Page
    responses: list[Response] = field(default_factory=list)
    pending: set[Request] = field(default_factory=set)
    listening: bool = False

    def install(self) -> Meter:
        """Listen to the page (call before the first navigation to count its events too), its
        HTTP cache off: every load is a first load, nothing comes from an earlier page."""
        cdp = self.page.context.new_cdp_session(self.page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        self.page.add_init_script(COUNT_SSE)
        self.page.on("request", self._requested)
        self.page.on("requestfinished", self._finished)
        self.page.on("requestfailed", self._finished)
        self.page.on("response", self._responded)
        self.listening = True
        return self

    def start(self) -> None:
        """Forget what was fetched so far: measure from here."""
        assert self.listening, "install() the meter before loading the page"
        self.responses.clear()

    def _requested(self, request: Request) -> None:
        self.pending.add(request)

    def _finished(self, request: Request) -> None:
        self.pending.discard(request)

    def _responded(self, response: Response) -> None:
        if STREAM in response.headers.get("content-type", ""):
            self.pending.discard(response.request)  # open for as long as the page lives
            return
        self.responses.append(response)

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until every request the page started (streams aside) has finished."""
        self.page.wait_for_load_state("load")
        self.page.evaluate("document.fonts.ready.then(() => true)")
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            self.page.wait_for_timeout(50)
        assert not self.pending, f"still loading: {[r.url for r in self.pending]}"

    def fetched(self) -> list[Fetched]:
        """Each response since ``start()``, with its raw and gzip-compressed body size."""
        self.settle()
        return [weigh(response) for response in self.responses]

    def sse_bytes(self) -> int:
        """Bytes of server-sent event data the page received since it was loaded."""
        counted: int = self.page.evaluate("window.__sseBytes || 0")
        return counted


def total(fetched: list[Fetched]) -> int:
    """The gzip-compressed weight of a load, in bytes."""
    return sum(item.gzipped for item in fetched)


def note(name: str, fetched: list[Fetched], extra: int = 0) -> int:
    """A load's weight in bytes (plus ``extra``), also kept in ``$HOTLINE_SHOTS/weights.txt``."""
    weight = total(fetched) + extra
    folder = os.environ.get("HOTLINE_SHOTS", "")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with open(Path(folder) / "weights.txt", "a", encoding="utf-8") as out:
            out.write(f"== {name}: {weight} bytes gzip ({extra} of events)\n")
            out.write(describe(fetched) + "\n")
    return weight


def describe(fetched: list[Fetched]) -> str:
    """One line per response (for an assertion message): gzip size, raw size, address."""
    lines = [f"{f.gzipped:>7} {f.raw:>8}  {f.url} ({f.content_type})" for f in fetched]
    return "\n".join([*lines, f"{total(fetched):>7} gzip bytes in all"])

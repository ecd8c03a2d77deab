"""What the worker needs from a provider: send one text to one address, say how it went."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    """The provider's answer: accepted (with its message id), or why not and whether to retry.

    ``unknown``: no answer that can be read although the request may have reached the provider
    (a timeout after it was sent, a connection cut mid-answer, an answer that cannot be parsed):
    the message may have gone out. A connection never made is not unknown.
    """

    ok: bool
    provider_message_id: str | None = None
    error: str | None = None
    permanent: bool = False
    unknown: bool = False


class Sender(Protocol):
    """A channel's outbound path. Blocking senders are run off the event loop by the worker."""

    name: str

    def send(self, to: str, message: str) -> SendResult:
        """Send one message; never raise for a provider refusal, return it."""
        ...


class LogSender:
    """The embedded default without provider keys: logs that a message would go out, no content."""

    name = "log"

    def __init__(self) -> None:
        self.count = 0

    def send(self, to: str, message: str) -> SendResult:
        """Pretend to send; the log names neither the number nor the text."""
        self.count += 1
        log.info(
            "demo sender: message %d of %d characters not sent (no provider configured)",
            self.count,
            len(message),
        )
        return SendResult(ok=True, provider_message_id=f"demo-{self.count}")

"""Blocking work run off the event loop, finished even when the awaiting task is cancelled."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


async def finish_in_thread(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run blocking work in a thread; if the caller is cancelled, let the work finish first.

    A thread cannot be stopped: cancelling the awaiting task would leave it running with a
    connection checked out while shutdown disposes the engine (the connection is then
    garbage-collected unclosed), or with a message sent but its outcome not yet recorded.
    """
    work = asyncio.ensure_future(asyncio.to_thread(func, *args, **kwargs))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        await asyncio.wait({work})  # bounded: a claim, or one send with the SDK's timeouts
        with contextlib.suppress(asyncio.CancelledError):
            work.exception()  # retrieved here: the cancelled caller no longer wants it
        raise

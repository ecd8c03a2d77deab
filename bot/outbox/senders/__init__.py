"""Outbound senders behind one interface; the worker picks one from settings."""

from __future__ import annotations

from bot.outbox.senders.base import LogSender, Sender, SendResult

__all__ = ["LogSender", "SendResult", "Sender"]

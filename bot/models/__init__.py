"""SQL tables, one concept per module; importing this registers them all on SQLModel.metadata."""

from __future__ import annotations

from bot.models.inbound import InboundMessage
from bot.models.outbox import DeliveryReport, OutboundMessage, OutboxStatus

__all__ = ["DeliveryReport", "InboundMessage", "OutboundMessage", "OutboxStatus"]

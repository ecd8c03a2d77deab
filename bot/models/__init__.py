"""SQL tables, one concept per module; importing this registers them all on SQLModel.metadata."""

from __future__ import annotations

from bot.models.ambassador import Ambassador, Invite, OperatorLink
from bot.models.audit import AuditEntry
from bot.models.case import Case, CaseEvent, CaseNote
from bot.models.content import ContentSignal, FlowDraft, FlowVersion
from bot.models.directory import Service
from bot.models.escalation import Escalation
from bot.models.inbound import InboundMessage
from bot.models.outbox import DeliveryReport, OutboundMessage, OutboxStatus
from bot.models.partner_code import PartnerCode
from bot.models.people import Operator, Shift
from bot.models.referral import Referral
from bot.models.stats import StatsCount, StatsMonth
from bot.models.web_session import WebSession

__all__ = [
    "Ambassador",
    "AuditEntry",
    "Case",
    "CaseEvent",
    "CaseNote",
    "ContentSignal",
    "DeliveryReport",
    "Escalation",
    "FlowDraft",
    "FlowVersion",
    "InboundMessage",
    "Invite",
    "Operator",
    "OperatorLink",
    "OutboundMessage",
    "OutboxStatus",
    "PartnerCode",
    "Referral",
    "Service",
    "Shift",
    "StatsCount",
    "StatsMonth",
    "WebSession",
]

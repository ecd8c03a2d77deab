"""Outbound messages: the outbox table, its worker, notifiers and senders."""

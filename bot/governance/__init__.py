"""Retention, key rotation and the audit log."""

"""Alembic migrations for the hotline's tables (run by ``hotline db upgrade`` and at start-up)."""

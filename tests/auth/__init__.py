"""Tests of ``bot.auth``: passwords, tokens, the sign-in throttle, sign-in, permissions."""

"""Tests for the case work: the service directory and referrals."""

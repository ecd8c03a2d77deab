"""Pseudonyms for phone numbers and Telegram ids, and encryption for what must be kept.

A pseudonym is HMAC-SHA256 under ``HOTLINE_PSEUDONYM_KEY`` (a plain hash of a phone number is
reversed by brute force in about a minute). Kept secrets (a number to reply to, a narrative)
are encrypted with AES-256-GCM under ``HOTLINE_ENCRYPTION_KEYS``, newest first; each token
names its key, so old keys keep decrypting until ``hotline keys rotate`` re-encrypts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field

import phonenumbers
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_SEPARATORS = re.compile(r"[\s().-]")
_SPELLING = re.compile(r"(\+00|\+|00)?([0-9]+)")  # +00…: how 00… used to be kept
_COUNTRY_CODES = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
TOKEN_VERSION = "v1"  # noqa: S105 - a format tag, not a secret


def normalise_phone(number: str, region: str | None = None) -> str:
    """One spelling per number, E.164 (``+`` and digits); ValueError for what is not a number.

    ``+243…``, ``00243…`` and ``243…`` (with spaces, dashes, dots or brackets) are the same
    number. A national spelling (``0812…``, or digits not starting with ``region``'s country
    code) needs ``region`` (``HOTLINE_DEFAULT_REGION``, e.g. ``CD``) and is read by
    ``phonenumbers``. An international spelling keeps its digits as given once ``phonenumbers``
    knows its country code: every number already kept as ``+`` and digits keeps its pseudonym
    (``phonenumbers`` would drop a trunk ``0`` written after the country code; Africa's Talking
    never sends one).
    """
    found = _SPELLING.fullmatch(_SEPARATORS.sub("", number.strip()))
    if found is None:
        raise ValueError("not a phone number")
    prefix, digits = found.groups()
    if not prefix and region and (digits.startswith("0") or not _has_code(digits, region)):
        try:
            parsed = phonenumbers.parse(digits, region.upper())
        except phonenumbers.NumberParseException:
            raise ValueError("not a phone number") from None
        if not phonenumbers.is_possible_number(parsed):
            raise ValueError("not a phone number")
        digits = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]
    elif not prefix and digits.startswith("0"):
        raise ValueError("a national phone number needs HOTLINE_DEFAULT_REGION")
    elif not _known_code(digits):
        try:
            phonenumbers.parse("+" + digits)  # a known country code
        except phonenumbers.NumberParseException:
            raise ValueError("not a phone number") from None
    if not 6 <= len(digits) <= 15:
        raise ValueError("not a phone number")  # E.164 has at most 15 digits
    return "+" + digits


def _known_code(digits: str) -> bool:
    """Do these 6 to 15 digits start with a country code ``phonenumbers`` knows? Then
    ``phonenumbers.parse("+" + digits)`` accepts them; the same test without parsing, which
    cost a fifth of a USSD request (anything else is left to ``parse`` to decide)."""
    if not 6 <= len(digits) <= 15 or digits[0] == "0":
        return False
    return any(int(digits[:n]) in _COUNTRY_CODES for n in (1, 2, 3))


def _has_code(digits: str, region: str) -> bool:
    """Do these digits start with ``region``'s country code (an international spelling)?"""
    code = phonenumbers.country_code_for_region(region.upper())
    if not code:
        raise ValueError(f"unknown region {region!r}")
    return digits.startswith(str(code)) and len(digits) > len(str(code)) + 6


def pseudonym(key: str, kind: str, value: str, region: str | None = None) -> str:
    """A stable, irreversible name for a person's address on a channel (``phone``, ``telegram``).

    A phone number is normalised first (``region`` for a national spelling), so every spelling
    of one number has one pseudonym.
    """
    if not key:
        raise ValueError("no pseudonym key")
    if kind == "phone":
        value = normalise_phone(value, region)
    digest = hmac.new(key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[:2]}_{digest[:32]}"


class DecryptError(Exception):
    """A token that no configured key opens, or that was tampered with."""


def _key_bytes(key: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    except (ValueError, binascii.Error) as exc:
        raise ValueError("an encryption key must be 32 bytes in URL-safe base64") from exc
    if len(raw) != 32:
        raise ValueError("an encryption key must be 32 bytes in URL-safe base64")
    return raw


def key_id(key: str) -> str:
    """A short public name for a key, stored in each token it made."""
    return hashlib.sha256(_key_bytes(key)).hexdigest()[:8]


def new_key() -> str:
    """A fresh random key in the form HOTLINE_ENCRYPTION_KEYS expects."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@dataclass(frozen=True)
class Cipher:
    """Authenticated encryption under a key ring; the first key encrypts, all decrypt.

    Each key's id and AES-GCM object are made once, here: rebuilding them per call was a
    tenth of a USSD request (sessions are sealed on every request).
    """

    keys: tuple[str, ...]
    _ring: dict[str, AESGCM] = field(init=False, repr=False, compare=False)
    _current: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("no encryption key configured")
        ring: dict[str, AESGCM] = {}
        for key in self.keys:
            ring.setdefault(key_id(key), AESGCM(_key_bytes(key)))
        object.__setattr__(self, "_ring", ring)
        object.__setattr__(self, "_current", key_id(self.keys[0]))

    @classmethod
    def from_list(cls, keys: list[str]) -> Cipher:
        """From HOTLINE_ENCRYPTION_KEYS, newest first."""
        return cls(tuple(keys))

    def encrypt(self, plaintext: str, context: str) -> str:
        """Encrypt; ``context`` (``outbox.recipient``) binds the token to where it is stored."""
        kid = self._current
        nonce = os.urandom(12)
        sealed = self._ring[kid].encrypt(nonce, plaintext.encode(), context.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{TOKEN_VERSION}.{kid}.{body}"

    def decrypt(self, token: str, context: str) -> str:
        """Decrypt a token made by any configured key for the same context."""
        try:
            version, kid, body = token.split(".", 2)
        except ValueError:
            raise DecryptError("not an encrypted token") from None
        if version != TOKEN_VERSION:
            raise DecryptError(f"unknown token version {version!r}")
        aead = self._ring.get(kid)
        if aead is None:
            raise DecryptError(f"no configured key {kid!r} (was it dropped before rotating?)")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        try:
            plain = aead.decrypt(raw[:12], raw[12:], context.encode())
        except InvalidTag:
            raise DecryptError("token was altered or belongs elsewhere") from None
        return plain.decode()

    def is_current(self, token: str) -> bool:
        """Was this token made with the newest key (nothing to rotate)?"""
        parts = token.split(".", 2)
        return len(parts) == 3 and parts[1] == self._current

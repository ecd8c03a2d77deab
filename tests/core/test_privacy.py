"""Privacy: keyed pseudonyms for contacts, authenticated encryption with rotatable keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random

import phonenumbers
import pytest

from bot.core.privacy import Cipher, DecryptError, key_id, new_key, normalise_phone, pseudonym
from tests.conftest import TEST_PHONES, assert_no_phone_numbers

KEY = "k" * 32
OTHER_KEY = "q" * 32
PHONE = TEST_PHONES[0]  # +243000000001


def test_a_pseudonym_is_stable_and_names_its_kind() -> None:
    first = pseudonym(KEY, "phone", PHONE)
    assert first == pseudonym(KEY, "phone", PHONE)
    assert first.startswith("ph_")
    assert len(first) == 3 + 32
    assert pseudonym(KEY, "phone", TEST_PHONES[1]) != first


def test_a_pseudonym_differs_per_key_and_per_kind() -> None:
    assert pseudonym(KEY, "phone", PHONE) != pseudonym(OTHER_KEY, "phone", PHONE)
    by_phone = pseudonym(KEY, "phone", PHONE)
    by_telegram = pseudonym(KEY, "telegram", PHONE)
    assert by_telegram.startswith("te_")
    assert by_phone[3:] != by_telegram[3:], "the same value on two channels must not link"


@pytest.mark.parametrize("spelling", ["+243 000-000-001", "243000000001", "(+243) 000 000 001"])
def test_a_pseudonym_normalises_the_phone_number(spelling: str) -> None:
    assert normalise_phone(spelling) == PHONE
    assert pseudonym(KEY, "phone", spelling) == pseudonym(KEY, "phone", PHONE)


FICTION = "+447700900123"  # Ofcom's range reserved for drama: no one's number
"""A number with a national spelling (``07700 900123`` in GB); TEST_PHONES have none."""


@pytest.mark.parametrize(
    ("spelling", "region"),
    [
        ("+243000000001", None),
        ("00243000000001", None),
        ("+00243000000001", None),
        ("00 243 000 000 001", "CD"),
        ("243000000001", "CD"),
        ("243-000-000-001", None),
        ("+243 000-000-001", "CD"),
    ],
)
def test_every_spelling_of_a_number_has_one_pseudonym(spelling: str, region: str | None) -> None:
    assert normalise_phone(spelling, region) == PHONE
    assert pseudonym(KEY, "phone", spelling, region) == pseudonym(KEY, "phone", PHONE)


@pytest.mark.parametrize(
    "spelling", ["07700 900123", "07700-900-123", "7700900123", "0044 7700 900123"]
)
def test_a_national_spelling_is_read_in_the_default_region(spelling: str) -> None:
    assert normalise_phone(spelling, "GB") == FICTION
    assert pseudonym(KEY, "phone", spelling, "GB") == pseudonym(KEY, "phone", FICTION)


def test_a_national_spelling_without_a_default_region_is_refused() -> None:
    with pytest.raises(ValueError, match="HOTLINE_DEFAULT_REGION"):
        normalise_phone("07700 900123")


@pytest.mark.parametrize(
    "junk",
    [
        "HELP",
        "",
        "+",
        "00",
        "12345",
        "+243 000 000 001 2345",
        "+999000000001",
        "243O00000001",
        "+243000000001;",
        "tel:+243000000001",
    ],
)
def test_what_is_not_a_phone_number_is_refused(junk: str) -> None:
    with pytest.raises(ValueError):
        normalise_phone(junk, "CD")
    with pytest.raises(ValueError):
        pseudonym(KEY, "phone", junk, "CD")


def test_numbers_already_kept_in_e164_keep_their_pseudonym() -> None:
    """Pseudonyms are HMACs of the normalised number: one already ``+`` and digits is unchanged
    (even the test numbers, whose ``0`` after the country code phonenumbers would drop)."""
    for number in (*TEST_PHONES, FICTION):
        before = hmac.new(KEY.encode(), f"phone:{number}".encode(), hashlib.sha256).hexdigest()
        assert pseudonym(KEY, "phone", number, "CD") == f"ph_{before[:32]}"


def test_a_pseudonym_is_not_a_plain_hash_and_shows_no_number() -> None:
    name = pseudonym(KEY, "phone", PHONE)
    for value in (PHONE, PHONE.lstrip("+"), f"phone:{PHONE}"):
        plain = hashlib.sha256(value.encode()).hexdigest()
        assert name[3:] not in plain
    assert_no_phone_numbers(name)


def test_a_pseudonym_needs_a_key_and_a_number() -> None:
    with pytest.raises(ValueError, match="key"):
        pseudonym("", "phone", PHONE)
    with pytest.raises(ValueError, match="not a phone number"):
        pseudonym(KEY, "phone", "HELP")


def test_cipher_round_trip_hides_the_text() -> None:
    cipher = Cipher((new_key(),))
    token = cipher.encrypt(PHONE, "outbox.recipient")
    assert cipher.decrypt(token, "outbox.recipient") == PHONE
    assert_no_phone_numbers(token)
    again = cipher.encrypt(PHONE, "outbox.recipient")
    assert again != token, "a fresh nonce per encryption: equal texts give different tokens"
    assert cipher.decrypt(cipher.encrypt("Mbote ɛ́", "outbox.body"), "outbox.body") == "Mbote ɛ́"


def _flip_one_byte(token: str) -> str:
    version, kid, body = token.split(".", 2)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return f"{version}.{kid}.{base64.urlsafe_b64encode(bytes(raw)).decode().rstrip('=')}"


def test_a_tampered_token_is_refused() -> None:
    cipher = Cipher((new_key(),))
    token = cipher.encrypt(PHONE, "outbox.recipient")
    with pytest.raises(DecryptError, match="altered"):
        cipher.decrypt(_flip_one_byte(token), "outbox.recipient")
    with pytest.raises(DecryptError):
        cipher.decrypt("not a token", "outbox.recipient")
    with pytest.raises(DecryptError, match="version"):
        cipher.decrypt("v0." + token.split(".", 1)[1], "outbox.recipient")


def test_a_token_is_bound_to_its_context() -> None:
    cipher = Cipher((new_key(),))
    token = cipher.encrypt(PHONE, "outbox.recipient")
    with pytest.raises(DecryptError):
        cipher.decrypt(token, "outbox.body")


def test_rotation_keeps_old_tokens_readable_until_re_encrypted() -> None:
    old, new = new_key(), new_key()
    before = Cipher((old,))
    token = before.encrypt(PHONE, "outbox.recipient")
    assert before.is_current(token)

    rotated = Cipher((new, old))  # the new key first: it encrypts, both decrypt
    assert rotated.decrypt(token, "outbox.recipient") == PHONE
    assert not rotated.is_current(token)
    fresh = rotated.encrypt(rotated.decrypt(token, "outbox.recipient"), "outbox.recipient")
    assert rotated.is_current(fresh)
    assert fresh.split(".")[1] == key_id(new)

    dropped = Cipher((new,))
    assert dropped.decrypt(fresh, "outbox.recipient") == PHONE
    with pytest.raises(DecryptError, match="rotat"):
        dropped.decrypt(token, "outbox.recipient")


@pytest.mark.parametrize(
    "key",
    [
        base64.urlsafe_b64encode(b"x" * 16).decode(),  # AES-128 is not accepted
        base64.urlsafe_b64encode(b"x" * 31).decode(),
        base64.urlsafe_b64encode(b"x" * 33).decode(),
        "k" * 32,  # 32 characters is not 32 bytes of key
        "not base64 at all!",
    ],
)
def test_an_invalid_key_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Cipher((key,))
    with pytest.raises(ValueError, match="32 bytes"):
        Cipher((new_key(), key))


def test_a_cipher_needs_a_key() -> None:
    with pytest.raises(ValueError, match="no encryption key"):
        Cipher(())
    assert Cipher.from_list([new_key()]).keys
    assert len(base64.urlsafe_b64decode(new_key())) == 32


def test_a_number_is_checked_against_phonenumbers_country_codes_as_parse_does() -> None:
    """The quick country code check agrees with ``phonenumbers.parse`` on international
    spellings: what it accepts parses, and a number it does not know is still refused."""
    rng = random.Random(7)
    for _ in range(20_000):
        digits = str(rng.randint(1, 9)) + "".join(
            rng.choice("0123456789") for _ in range(rng.randint(5, 14))
        )
        accepted = True
        try:
            phonenumbers.parse("+" + digits)
        except phonenumbers.NumberParseException:
            accepted = False
        try:
            normalise_phone("+" + digits)
        except ValueError:
            assert not accepted, digits
        else:
            assert accepted, digits

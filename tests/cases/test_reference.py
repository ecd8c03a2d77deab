"""Reference codes: readable aloud, no look-alike characters, typed back in any reasonable way."""

from __future__ import annotations

from bot.cases.reference import DIGITS, LETTERS, PATTERN, new_reference, normalise


def test_codes_have_the_promised_shape_and_no_look_alikes() -> None:
    codes = {new_reference() for _ in range(2000)}
    assert len(codes) > 1990, "codes are random"
    for code in codes:
        assert PATTERN.match(code), code
        assert not set(code) & set("0O1IL2Z5S8B"), code


def test_typed_back_forms_are_understood() -> None:
    assert normalise("k7qm 46") == "K7QM-46"
    assert normalise("K7QM46") == "K7QM-46"
    assert normalise(" k7qm-46 ") == "K7QM-46"
    assert normalise("K7QM-4") is None
    assert normalise("K7QO-46") is None, "O is never used, so a typo is not silently accepted"
    assert set(LETTERS) & set(DIGITS) <= set("3479")

"""GSM-7 folding and sizing, checked against the real GSM 03.38 codec."""

from __future__ import annotations

import gsm0338  # type: ignore[import-untyped]  # noqa: F401  (registers "gsm03.38" codec)
import pytest

from bot.i18n.gsm7 import (
    LANGUAGES,
    USSD_LIMIT_GSM7,
    USSD_LIMIT_UCS2,
    fits_ussd,
    fold,
    is_gsm7,
    septets,
    sms_parts,
    ussd_length,
    ussd_limit,
)

ESC = 0x1B


def _codec_basic() -> list[str]:
    """Every basic-table character as the codec defines it (all 7-bit codes except ESC)."""
    return [bytes([b]).decode("gsm03.38") for b in range(0x80) if b != ESC]


def _codec_extension() -> list[str]:
    """Every printable extension-table character the codec knows (form feed excluded)."""
    chars: list[str] = []
    for b in range(0x80):
        try:
            ch = bytes([ESC, b]).decode("gsm03.38")
        except UnicodeDecodeError:
            continue
        if len(ch) == 1 and ch != "\x0c":
            chars.append(ch)
    return chars


def _sendable(text: str) -> bool:
    """True when the real codec encodes text and our own check agrees."""
    text.encode("gsm03.38")  # raises UnicodeEncodeError if not GSM-7
    return is_gsm7(text)


# --- realistic hotline sentences -------------------------------------------------------------

SENTENCES = [
    (
        "fr",
        "Êtes-vous en sécurité maintenant\u202f? «\u00a0Oui\u00a0» – c’est gratuit…",
        'Etes-vous en sécurité maintenant ? " Oui " - c\'est gratuit...',
    ),
    (
        "fr",
        "Appelez-nous à toute heure\u202f: l’aide est confidentielle, même à l’étranger.",
        "Appelez-nous à toute heure : l'aide est confidentielle, meme à l'étranger.",
    ),
    (
        "fr",
        "Où êtes-vous\u202f? Ça va\u00a0? Quelqu’un a pris votre passeport\u202f?",
        "Où etes-vous ? Ça va ? Quelqu'un a pris votre passeport ?",
    ),
    (
        "ln",
        "Ozalí na libɔ́kɔ́ ? Tɛlɛfɔ́nɛ",
        "Ozali na liboko ? Telefone",
    ),
    (
        "ln",
        "Nazalí na mbóka mosúsu, bazwí pasipɔ́lɔ ya ngáí – nasálisa ngáí…",
        "Nazali na mboka mosusu, bazwi pasipolo ya ngai - nasalisa ngai...",
    ),
    (
        "st",
        "Na u sireletsehile? Setšabelo, ho tšoara",
        "Na u sireletsehile? Sets'abelo, ho ts'oara",
    ),
    (
        "st",
        "Tšebeletso ena ke ea mahala – “re teng” ho u thusa…",
        'Ts\'ebeletso ena ke ea mahala - "re teng" ho u thusa...',
    ),
    (
        "en",
        "“Are you safe right now?” Reply 1 for yes – it’s free and confidential…",
        '"Are you safe right now?" Reply 1 for yes - it\'s free and confidential...',
    ),
    (
        "en",
        "They took my passport\u00a0— I can’t leave.\nHelp: 0800\u2009123\u2009456",
        "They took my passport - I can't leave.\nHelp: 0800 123 456",
    ),
]


@pytest.mark.parametrize(("lang", "text", "expected"), SENTENCES)
def test_hotline_sentences_fold_to_sendable_gsm7(lang: str, text: str, expected: str) -> None:
    assert not is_gsm7(text)
    folded = fold(text, lang)
    assert folded == expected
    assert _sendable(folded)


# --- exact per-language tables ---------------------------------------------------------------

CASES = [
    # common rules, every language
    *[
        (lang, src, out)
        for lang in LANGUAGES
        for src, out in [
            ("l’eau ‘x’ ʼa", "l'eau 'x' 'a"),
            ("“a” «b» „c", '"a" "b" "c'),
            ("1–2—3‑4", "1-2-3-4"),
            ("attends…", "attends..."),
            ("a\u00a0b\u202fc\u2009d", "a b c d"),
            ("ligne 1\nligne 2\r\n", "ligne 1\nligne 2\r\n"),
        ]
    ],
    # fr keep-list: already GSM-7, unchanged
    ("fr", "é è à ù É Ç", "é è à ù É Ç"),
    ("fr", "sécurité, très, là, où, École, Ça", "sécurité, très, là, où, École, Ça"),
    # fr fold-list
    ("fr", "ç ê ë â î ï ô û œ Œ", "c e e a i i o u oe OE"),
    ("fr", "Ê Ë Â Î Ï Ô Û À È Ù", "E E A I I O U A E U"),
    (
        "fr",
        "garçon, fête, Noël, âge, île, maïs, hôtel, sûr",
        "garcon, fete, Noel, age, ile, mais, hotel, sur",
    ),
    ("fr", "sœur, cœur, ŒUVRE", "soeur, coeur, OEUVRE"),
    ("fr", "À BIENTÔT, ÊTES-VOUS LÀ ?", "A BIENTOT, ETES-VOUS LA ?"),
    ("fr", "ÿ Ÿ", "y Y"),  # generic fallback after French rules
    # ln: open vowels and every tone mark, even on letters GSM-7 has
    ("ln", "ɛ ɔ Ɛ Ɔ", "e o E O"),
    ("ln", "mbóka", "mboka"),
    ("ln", "nazalí", "nazali"),
    ("ln", "ɛ́", "e"),
    ("ln", "ɛ̀ ɔ́ ɔ̂ ɛ̌ Ɛ́ Ɔ̀", "e o o e E O"),
    ("ln", "é è à ù ì ò É", "e e a u i o E"),
    ("ln", "â ê î ô û ǎ ě ǐ ǒ ǔ", "a e i o u a e i o u"),
    ("ln", "Mbote, ozalí malámu ?", "Mbote, ozali malamu ?"),
    ("ln", "ndeko, lisálisi, mosálá", "ndeko, lisalisi, mosala"),
    # st: š -> s'
    ("st", "š Š", "s' S'"),
    ("st", "tšebeletso", "ts'ebeletso"),
    ("st", "setšabelo", "sets'abelo"),
    ("st", "TŠEBELETSO", "TS'EBELETSO"),
    ("st", "Ke kopa thuso hona joale.", "Ke kopa thuso hona joale."),
    # en: GSM-7 accented letters stay, others lose the diacritic
    ("en", "café é É Ç ñ Ü ø", "café é É Ç ñ Ü ø"),
    ("en", "naïve façade rôle Zoë", "naive facade role Zoe"),
    ("en", "José Núñez, São Paulo, Łódź", "José Nuñez, Sao Paulo, ?odz"),
    ("en", "ë ê ç á í ó ú ý", "e e c a i o u y"),
    # decomposed input behaves like the precomposed letter
    ("en", "cafe\u0301", "café"),
    ("fr", "fe\u0302te", "fete"),
    ("ln", "nazali\u0301", "nazali"),
    ("st", "ts\u030cebeletso", "ts'ebeletso"),
]


@pytest.mark.parametrize(("lang", "text", "expected"), CASES)
def test_fold_exact(lang: str, text: str, expected: str) -> None:
    folded = fold(text, lang)
    assert folded == expected
    assert _sendable(folded)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_fold_is_idempotent_on_its_output(lang: str) -> None:
    for _, text, _ in SENTENCES + CASES:
        once = fold(text, lang)
        assert fold(once, lang) == once


@pytest.mark.parametrize("lang", ["en", "fr", "st"])
def test_fold_leaves_plain_gsm7_untouched(lang: str) -> None:
    everything = "".join(_codec_basic() + _codec_extension())
    assert fold(everything, lang) == everything


# --- things that are not text a basic phone can show -----------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Help 🙏", "Help ?"),
        ("👨‍👩‍👧", "?????"),  # ZWJ sequence: 3 emoji + 2 zero-width joiners
        ("救命", "??"),
        ("Привет", "??????"),
        ("tab\there", "tab?here"),
        ("\x0c\x1b\x00", "???"),
        ("½ ①", "? ?"),
        ("line\nbreak", "line\nbreak"),
        ("", ""),
    ],
)
def test_unsendable_characters_become_question_marks(lang: str, text: str, expected: str) -> None:
    folded = fold(text, lang)
    assert folded == expected
    assert _sendable(folded)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_fold_never_raises_and_always_yields_gsm7_across_unicode(lang: str) -> None:
    # BMP (lone surrogates included), emoji/symbol planes and CJK Extension B.  is_gsm7 is
    # proven equal to the codec's alphabet below; encoding a string this long with the
    # pure-Python codec would take ~20 s, so only a slice of the output goes through it.
    code_points = "".join(map(chr, range(0x30000)))
    folded = fold(code_points, lang)
    assert is_gsm7(folded)
    folded[:5000].encode("gsm03.38")


@pytest.mark.parametrize("lang", ["", "EN", "fr-FR", "sw", "zu"])
def test_unknown_language_raises(lang: str) -> None:
    with pytest.raises(ValueError, match="unknown language"):
        fold("hello", lang)


def test_languages() -> None:
    assert LANGUAGES == ("en", "fr", "ln", "st")


# --- the alphabet, against the codec ---------------------------------------------------------


def test_codec_tables_have_expected_sizes() -> None:
    assert len(set(_codec_basic())) == 127
    assert sorted(_codec_extension()) == sorted("^{}\\[~]|€")


@pytest.mark.parametrize("ch", _codec_basic())
def test_every_basic_table_character_is_one_septet(ch: str) -> None:
    assert is_gsm7(ch)
    assert septets(ch) == 1


@pytest.mark.parametrize("ch", _codec_extension())
def test_every_extension_table_character_is_two_septets(ch: str) -> None:
    assert is_gsm7(ch)
    assert septets(ch) == 2
    assert len(ch.encode("gsm03.38")) == 2


def test_is_gsm7_accepts_exactly_the_codec_alphabet() -> None:
    alphabet = set(_codec_basic()) | set(_codec_extension())
    accepted = {chr(cp) for cp in range(0x110000) if is_gsm7(chr(cp))}
    assert accepted == alphabet


@pytest.mark.parametrize("ch", ["\x1b", "\x0c", "\t", "\x00", "ç", "À", "ɛ", "š", "’", "\u00a0"])
def test_is_gsm7_rejects(ch: str) -> None:
    assert not is_gsm7(ch)
    assert not is_gsm7("abc" + ch)


def test_septets() -> None:
    assert septets("") == 0
    assert septets("Mbote") == 5
    assert septets("5€ [x]") == 9
    assert septets("a\nb") == 3


@pytest.mark.parametrize("text", ["ɛ", "c’est", "🙏", "\x0c"])
def test_septets_rejects_non_gsm7(text: str) -> None:
    with pytest.raises(ValueError, match="not a GSM-7 character"):
        septets(text)


# --- USSD screens ----------------------------------------------------------------------------


def test_ussd_limits() -> None:
    assert USSD_LIMIT_GSM7 == 182
    assert USSD_LIMIT_UCS2 == 80


def test_ussd_gsm7_182_fits_183_does_not() -> None:
    assert ussd_limit("a" * 182) == 182
    assert ussd_length("a" * 182) == 182
    assert fits_ussd("a" * 182)
    assert not fits_ussd("a" * 183)


def test_ussd_one_non_gsm7_character_drops_limit_to_80() -> None:
    text = "a" * 79 + "ɛ"
    assert ussd_limit(text) == 80
    assert ussd_length(text) == 80
    assert fits_ussd(text)
    assert not fits_ussd("a" * 80 + "ɛ")
    assert not fits_ussd("a" * 100 + "’")  # would fit as GSM-7; one smart quote breaks it
    assert fits_ussd(fold("a" * 100 + "’", "en"))


def test_ussd_emoji_counts_two_utf16_units() -> None:
    assert ussd_length("🙏") == 2
    assert fits_ussd("🙏" * 40)
    assert not fits_ussd("🙏" * 41)


def test_ussd_extension_characters_count_double() -> None:
    assert ussd_length("€" * 91) == 182
    assert fits_ussd("€" * 91)
    assert not fits_ussd("€" * 92)
    assert fits_ussd("a" * 180 + "[")
    assert not fits_ussd("a" * 181 + "]")


# --- SMS parts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "parts"), [(0, 1), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)]
)
def test_sms_parts_gsm7(n: int, parts: int) -> None:
    assert sms_parts("a" * n) == parts


@pytest.mark.parametrize(("n", "parts"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3)])
def test_sms_parts_ucs2(n: int, parts: int) -> None:
    assert sms_parts("ɛ" * n) == parts


def test_sms_parts_empty_is_one() -> None:
    assert sms_parts("") == 1


def test_sms_parts_extension_characters_count_double() -> None:
    assert sms_parts("€" * 80) == 1
    assert sms_parts("€" * 81) == 2


def test_sms_parts_ucs2_counts_utf16_units() -> None:
    assert sms_parts("🙏" * 35) == 1
    assert sms_parts("🙏" * 36) == 2


def test_sms_parts_one_smart_quote_switches_to_ucs2() -> None:
    text = "c’est " + "a" * 100
    assert sms_parts(text) == 2
    assert sms_parts(fold(text, "fr")) == 1

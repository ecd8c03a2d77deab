"""GSM-7 (GSM 03.38) character handling and per-language folding for USSD and SMS.

Basic phones reached over USSD/SMS only render the GSM 03.38 default alphabet reliably; a
single character outside it switches a whole message to UCS-2, which more than halves the
room per USSD screen or SMS part.  Everything here is a pure function with no I/O.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Final

from bot.core.languages import LANGUAGES

__all__ = [
    "LANGUAGES",
    "USSD_LIMIT_GSM7",
    "USSD_LIMIT_UCS2",
    "fits_ussd",
    "fold",
    "is_gsm7",
    "septets",
    "sms_parts",
    "ussd_length",
    "ussd_limit",
]

USSD_LIMIT_GSM7: Final = 182
USSD_LIMIT_UCS2: Final = 80

# GSM 03.38 default alphabet, in code order 0x00-0x7F with ESC (0x1B) left out: ESC only
# introduces the extension table and is not a character.  The Greek letters are the real
# Greek capitals (U+0394 ...), not look-alikes such as OHM SIGN.
_BASIC_CHARS: Final = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table (each sent as ESC + code, i.e. two septets).  FORM FEED (ESC 0x0A) is
# deliberately excluded: it is not printable and handsets treat it inconsistently.
_EXTENSION_CHARS: Final = "^{}\\[~]|€"

_BASIC: Final = frozenset(_BASIC_CHARS)
_EXTENSION: Final = frozenset(_EXTENSION_CHARS)
_ALPHABET: Final = _BASIC | _EXTENSION

# Typographic punctuation and spacing, folded for every language.
_COMMON: Final[dict[int, str]] = str.maketrans(
    {
        "\u2019": "'",  # ’ right single quotation mark
        "\u2018": "'",  # ‘ left single quotation mark
        "\u02bc": "'",  # ʼ modifier letter apostrophe
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u00ab": '"',  # «
        "\u00bb": '"',  # »
        "\u201e": '"',  # „
        "\u2013": "-",  # – en dash
        "\u2014": "-",  # — em dash
        "\u2011": "-",  # non-breaking hyphen
        "\u2026": "...",  # … horizontal ellipsis
        "\u00a0": " ",  # no-break space
        "\u202f": " ",  # narrow no-break space (French before ? ! : ;)
        "\u2009": " ",  # thin space
    }
)

# French: é è à ù É Ç are in GSM-7 and are kept; everything else French uses is folded.
_FRENCH: Final[dict[int, str]] = str.maketrans(
    {
        "ç": "c",
        "ê": "e",
        "ë": "e",
        "â": "a",
        "î": "i",
        "ï": "i",
        "ô": "o",
        "û": "u",
        "œ": "oe",
        "Œ": "OE",
        "Ê": "E",
        "Ë": "E",
        "Â": "A",
        "Î": "I",
        "Ï": "I",
        "Ô": "O",
        "Û": "U",
        "À": "A",
        "È": "E",
        "Ù": "U",
    }
)

# Lingala open vowels.
_LINGALA_VOWELS: Final[dict[int, str]] = str.maketrans({"ɛ": "e", "ɔ": "o", "Ɛ": "E", "Ɔ": "O"})
# Lingala tone marks as combining characters: acute, grave, circumflex, caron.
_LINGALA_TONES: Final[dict[int, None]] = dict.fromkeys(
    (0x0301, 0x0300, 0x0302, 0x030C),
)

# Sesotho (Lesotho spelling): š is written s' when it cannot be typed.
_SESOTHO: Final[dict[int, str]] = str.maketrans({"š": "s'", "Š": "S'"})


def is_gsm7(text: str) -> bool:
    """Return True if every character is in the GSM-7 basic or extension table (fits 7-bit)."""
    return _ALPHABET.issuperset(text)  # in C: the screens of a long text are measured often


def septets(text: str) -> int:
    """Count 7-bit septets (extension chars take 2) to size GSM-7 text; ValueError otherwise."""
    if _BASIC.issuperset(text):  # the usual case, counted in C
        return len(text)
    total = 0
    for ch in text:
        if ch in _BASIC:
            total += 1
        elif ch in _EXTENSION:
            total += 2
        else:
            raise ValueError(f"not a GSM-7 character: {ch!r} (U+{ord(ch):04X})")
    return total


def _fallback(text: str) -> str:
    """Reduce non-GSM-7 letters to their base letter, then replace anything left with '?'."""
    out: list[str] = []
    for ch in text:
        if ch in _ALPHABET:
            out.append(ch)
        elif unicodedata.combining(ch):
            # A stray combining mark whose base letter has already been kept: drop it.
            continue
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)
            )
            out.append(base if base and is_gsm7(base) else "?")
    return "".join(out)


def fold(text: str, lang: str) -> str:
    """Rewrite text with GSM-7 characters only, the way people in that language type it."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")
    # NFC first so decomposed input ("e" + U+0301) is treated like the precomposed letter.
    text = unicodedata.normalize("NFC", text).translate(_COMMON)
    if lang == "fr":
        text = text.translate(_FRENCH)
    elif lang == "ln":
        # Drop tones even on letters GSM-7 has (é, à...): plain Lingala is what people text.
        text = unicodedata.normalize("NFD", text).translate(_LINGALA_TONES)
        text = unicodedata.normalize("NFC", text).translate(_LINGALA_VOWELS)
    elif lang == "st":
        text = text.translate(_SESOTHO)
    return _fallback(text)


def ussd_limit(text: str) -> int:
    """Return the USSD screen limit for text: 182 septets for GSM-7, else 80 UCS-2 units."""
    return USSD_LIMIT_GSM7 if is_gsm7(text) else USSD_LIMIT_UCS2


def _utf16_units(text: str) -> int:
    """Count UTF-16 code units, the unit UCS-2 messages are measured in (emoji count 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def ussd_length(text: str) -> int:
    """Measure text as a USSD gateway does: septets for GSM-7, else UTF-16 code units."""
    return septets(text) if is_gsm7(text) else _utf16_units(text)


def fits_ussd(text: str) -> bool:
    """Return True if text fits on one USSD screen in the encoding it will be sent in."""
    return ussd_length(text) <= ussd_limit(text)


def sms_parts(text: str) -> int:
    """Count the SMS parts text will be billed as, so long replies can be kept short."""
    # Simplification: a real GSM-7 splitter never splits an ESC + extension pair across
    # parts, so a part can occasionally hold 152 septets and need one more part than this
    # ceil() estimate.  Counting is good enough for budgeting; do not use it to split.
    if is_gsm7(text):
        n = septets(text)
        single, multi = 160, 153
    else:
        n = _utf16_units(text)
        single, multi = 70, 67
    if n <= single:
        return 1
    return math.ceil(n / multi)

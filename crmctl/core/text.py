"""Text normalisation for matching people and companies across data entry habits.

Full-width and half-width forms (ＡＢＣ１２３ / ABC123, （ / ( ), case, spacing,
company suffixes and phone formatting differ from one typist to the next;
``whois``, duplicate checks and import dedupe all compare through here.
"""
from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"[\s\u3000]+")
_PUNCT = re.compile(r"[\s.,;:'\"()\[\]{}\-_/\\&|·・，。；：、（）【】《》“”‘’]+")
_SUFFIXES = (
    "股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司",
    " co ltd", " co., ltd.", " company limited", " limited", " ltd", " llc", " inc", " gmbh", " corp", " corporation", " jsc",
)


def fold(text: str | None) -> str:
    """NFKC (full-width → half-width), casefold, single spaces."""
    if not text:
        return ""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", str(text)).casefold()).strip()


def name_key(text: str | None) -> str:
    """A comparison key for a person's or company's name: no punctuation, no legal suffix."""
    folded = fold(text)
    for suffix in _SUFFIXES:
        if folded.endswith(suffix) and len(folded) > len(suffix) + 1:
            folded = folded[: -len(suffix)]
            break
    return _PUNCT.sub("", folded)


def phone_key(text: str | None) -> str:
    """Digits only, without a leading country code 86/0086 or trunk 0, for comparison."""
    digits = re.sub(r"\D", "", fold(text))
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 8:
            digits = digits[len(prefix):]
            break
    return digits.lstrip("0")


def email_key(text: str | None) -> str:
    return fold(text).replace(" ", "")

"""Record ids: generated ids for transactional records, slugs for master data.

A generated id is 8 Crockford base32 characters of milliseconds since
2024-01-01 followed by 4 random ones: ids sort by creation time, two clones
creating records in the same millisecond collide with odds of one in a
million, and a short prefix is enough to name a record. Every id, however it
was made, must match :data:`ID_PATTERN`, so an id can never name a path.
"""
from __future__ import annotations

import os
import re
import threading
import time
import unicodedata

from crmctl.core.errors import ValidationError

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
EPOCH_MS = 1704067200000  # 2024-01-01T00:00:00Z
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # always fullmatch: `$` would let "evil\n" through
# a document number (QT-2026-0007, SO-2026-0001): it becomes part of a file name, so no '/', '.', or space
DOC_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
# names Windows cannot create (with any extension): a record named so breaks every Windows clone
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))})

_lock = threading.Lock()
_last = (0, 0)


_PAIRS = [a + b for a in ALPHABET for b in ALPHABET]  # two digits at a time: a batch makes ids by the thousand


def _b32(number: int, width: int) -> str:
    """``number`` in ``width`` base-32 digits (``width`` even)."""
    chars = []
    for _ in range(width // 2):
        number, pair = divmod(number, 1024)
        chars.append(_PAIRS[pair])
    return "".join(reversed(chars))


def new_id(now_ms: int | None = None) -> str:
    """A fresh, time-sortable id; monotonic within one process."""
    global _last
    millis = (now_ms if now_ms is not None else int(time.time() * 1000)) - EPOCH_MS
    with _lock:
        last_ms, last_rand = _last
        if millis <= last_ms:
            # same millisecond (batch imports): keep order by counting up
            millis, rand = last_ms, last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(3), "big") >> 4  # 20 random bits
        _last = (millis, rand)
    return _b32(millis, 8) + _b32(rand % (1 << 20), 4)


def check_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it is a valid id, else raise a clear error."""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise ValidationError(
            f"invalid {what} {value!r}: use lowercase letters, digits, '-' and '_' (at most 64, starting with a letter or digit)"
        )
    if value in WINDOWS_RESERVED:
        raise ValidationError(f"invalid {what} {value!r}: Windows cannot have a file of that name; choose another")
    return value


def slugify(text: str) -> str:
    """A readable slug from a name; empty when the name has no Latin letters or digits."""
    # NFKC folds full-width Ｌａｔｉｎ forms into plain ASCII first
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:48].strip("-")

"""Writing any valid record and reading it back — cold and from the cache — is lossless.

(The store drops empty lists and mappings on write: "no tags" has one spelling.)
"""
from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmctl.core.book import Book

text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=25).filter(lambda s: s.strip() == s)
accounts = st.fixed_dictionaries(
    {"name": text},
    optional={
        "name_en": text, "tier": st.sampled_from(["A", "B", "C"]), "city": text, "notes": st.text(max_size=80),
        "phone": st.from_regex(r"\+?[0-9]{2,4}[ -][0-9]{3,4}[ -][0-9]{4}", fullmatch=True),
        "lat": st.decimals(min_value=-90, max_value=90, places=4).map(str),
        "tags": st.lists(text, min_size=1, max_size=3), "addresses": st.lists(st.fixed_dictionaries({"city": text, "zip": st.from_regex(r"0[0-9]{5}", fullmatch=True)}), min_size=1, max_size=2),
    },
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=accounts)
def test_put_then_read_is_lossless(empty_book: Path, data: dict) -> None:
    data = {k: (v.replace("\r", "") if isinstance(v, str) else v) for k, v in data.items()}
    book = Book(str(empty_book))
    with book.transaction("roundtrip", commit=False) as tx:
        tx.put("accounts", "roundtrip", data)
    cold = Book(str(empty_book))
    shutil.rmtree(empty_book / ".crmctl" / "cache", ignore_errors=True)
    assert cold.get("accounts", "roundtrip").data == data
    warm = Book(str(empty_book))  # now from the cache written by the cold read
    assert warm.get("accounts", "roundtrip").data == data
    assert cold.problems == [] and warm.problems == []

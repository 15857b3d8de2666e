"""Every report PDF speaks the book's language: no English words in a Chinese book's reports, no Chinese in an
English book's, except what is a name or a code (record names, generated ids, SKUs, document numbers, currency codes).

The text comes out of the PDF (pdfplumber), so a sentence built in the wrong language, a slug printed instead of a
name, or a setting without its Chinese name (an SOP step, a funnel step) fails here whatever code printed it.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pdfplumber
import pytest

from crmctl.core.phrases import LANGUAGES, PHRASES, say
from crmctl.core.yamlio import loads
from tests.conftest import invoke

NOW = {"CRMCTL_NOW": "2026-11-27T18:00:00+08:00"}
REPORTS = {
    "pipeline": ["report", "pipeline"],
    "funnel": ["report", "funnel"],
    "forecast": ["report", "forecast"],
    "velocity": ["report", "velocity"],
    "receivables": ["report", "receivables"],
    "customers": ["report", "customers"],
    "sfe": ["report", "sfe", "--period", "2026-Q4"],
    "changes": ["report", "changes", "--from", "2026-11-21", "--to", "2026-11-27"],
}
# words that are codes in any language: the ISO currency code, the SFE report's "SOP" and the customers' "RFM"
CODES = ("CNY", "USD", "EUR", "SOP", "RFM")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
SLUGGED = ("users", "accounts", "contacts", "products", "pricebooks")
FIELDS = ("name", "sku", "number", "tax_id", "vat_id")   # no emails: li.na@… would let the slug li-na pass


def _records(book: Path) -> Iterator[tuple[Path, str, dict[str, Any]]]:
    for path in sorted((book / "records").glob("*/*.yaml")):
        data, _ = loads(path.read_text(encoding="utf-8"), str(path))
        if isinstance(data, dict):
            yield path, path.stem, data


def _names_and_codes(book: Path, quoted: bool = False) -> list[str]:
    """What a report may print in any script: generated record ids (not slugs: li-na must print as 李娜), names (as
    stored), SKUs, document numbers, tax ids, codes; with
    ``quoted``, also what people wrote that a report quotes verbatim (a visit's follow-ups)."""
    out = list(CODES)
    for path, rid, data in _records(book):
        if path.parent.name not in SLUGGED:      # a person's or a company's slug is never what a report prints
            out.append(rid)
        out += [str(data[f]) for f in FIELDS if data.get(f)]
        if quoted:
            out += [str(s.get("text")) for s in data.get("next_steps") or () if isinstance(s, dict)]
    return out


def _text(path: Path) -> str:
    with pdfplumber.open(str(path)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def _foreign(text: str, run: str, allowed: list[str]) -> list[str]:
    """The runs of ``run`` (a regex) in ``text`` that are not part of an allowed string.

    A table cell wraps a long name over lines, and the text of a page interleaves the cells of a row, so a run is
    judged alone: it passes when it is a whole run of an allowed string, or (a name broken inside a word) its
    beginning or end.
    """
    # charts are SVG text, which pdfplumber reads without the spaces between words
    whole = {w for item in allowed for form in (item, re.sub(r"\s+", "", item)) for w in re.findall(run, form)}
    ends = {w[:i] for w in whole for i in range(1, len(w))} | {w[i:] for w in whole for i in range(1, len(w))}
    return sorted({w for w in re.findall(run, text) if w not in whole and w not in ends})


def _git_book(book: Path) -> None:
    """Make the copy a git repository committed on 2026-11-20, so `report changes` has a history to read."""
    env = {**os.environ, "GIT_AUTHOR_DATE": "2026-11-20T12:00:00+08:00", "GIT_COMMITTER_DATE": "2026-11-20T12:00:00+08:00",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "demo"]):
        subprocess.run(["git", "-C", str(book), *args], check=True, env=env, capture_output=True)


def _render(book: Path, name: str, out: Path) -> str:
    r = invoke(*REPORTS[name], "--pdf", str(out), book=book, env=NOW)
    assert r.exit_code == 0, r.output
    return _text(out)


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_a_chinese_books_report_has_no_english_words(demo_copy: Path, tmp_path: Path, name: str) -> None:
    _git_book(demo_copy)
    text = _render(demo_copy, name, tmp_path / f"{name}.pdf")
    assert CJK.search(text), "the report is not in Chinese at all"
    # single letters are codes (tier A, 2026-Q4); a word has two or more
    words = _foreign(text, r"[A-Za-z]{2,}", _names_and_codes(demo_copy))
    assert not words, f"English in the Chinese {name} report: {words}"


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_an_english_books_report_has_no_chinese_but_names(demo_copy: Path, tmp_path: Path, name: str) -> None:
    crm = demo_copy / "crm.yaml"
    crm.write_text(crm.read_text(encoding="utf-8").replace("locale: zh_CN", "locale: en_US"), encoding="utf-8")
    _git_book(demo_copy)
    text = _render(demo_copy, name, tmp_path / f"{name}.pdf")
    # the demo's reps wrote their follow-ups in Chinese: the report quotes them as written
    chinese = _foreign(text, CJK.pattern + "+", _names_and_codes(demo_copy, quoted=True))
    assert not chinese, f"Chinese in the English {name} report: {chinese}"


def test_the_sfe_act_list_in_chinese_reads_as_sentences(demo_copy: Path, tmp_path: Path) -> None:
    text = _render(demo_copy, "sfe", tmp_path / "sfe.pdf")
    # li-na: 84.0% of 25 due visits done, 4 missed, 6 overdue follow-ups (the demo's Q4 as of 27 Nov)
    assert "完成率 84.0%，未完成 4 次，" in text and "逾期跟进 6 项" in text
    assert "项逾期跟进" in text and "crmctl" not in text
    # the SOP step's name for its visit type: a phone call is written up as a call, a video meeting as a meeting
    assert "撰写通话纪要" in text and "撰写会议纪要" in text and "撰写拜访纪要" in text


def test_every_phrase_has_every_language() -> None:
    for key, texts in PHRASES.items():
        assert set(texts) == set(LANGUAGES), key
        fields = {f for t in texts.values() for f in re.findall(r"{(\w+)}", t)}
        for lang in LANGUAGES:     # the caller passes what every language needs; none asks for more
            assert say(key, lang, **{f: "x" for f in fields}), (key, lang)


def test_check_warns_about_a_chinese_books_setting_without_a_chinese_name(demo_copy: Path) -> None:
    # the kind of fault the SOP steps had: a Chinese book whose report prints a setting's English name
    crm = demo_copy / "crm.yaml"
    crm.write_text(crm.read_text(encoding="utf-8") + "  types:\n    demo:\n      name: Demo day\n      name_zh: 演示日\n"
                   "      sop:\n        - {id: prepare, name: Prepare the demo, required: true}\n", encoding="utf-8")
    r = invoke("check", book=demo_copy, env=NOW)
    assert "warning: visits.types.demo.sop[0] (prepare): 'Prepare the demo' has no name_zh; the book's Chinese " \
           "report PDFs would print it in English" in r.output, r.output
    assert "visits.types.onsite" not in r.output     # the default SOPs carry their Chinese names

"""Imports read every date in one stated order and every text in one certain encoding, or refuse the file.

Each test imports a real file through the CLI into a real book (the ``run``
fixture) and reads back what was committed.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import Run, git

HEAD = "name,account,stage,amount,close_date\n"


def opps(book: Path) -> dict[str, str]:
    """Opportunity name -> close_date, as committed."""
    folder = book / "records" / "opportunities"
    out = {}
    for path in folder.glob("*.yaml") if folder.exists() else []:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[data["name"]] = data.get("close_date")
    return out


def names(book: Path, rtype: str = "leads") -> list[str]:
    folder = book / "records" / rtype
    return sorted(yaml.safe_load(p.read_text(encoding="utf-8"))["name"] for p in folder.glob("*.yaml")) if folder.exists() else []


def write(tmp_path: Path, name: str, data: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(path)


# ------------------------------------------------------------------ dates

def test_ambiguous_dates_without_a_format_refuse_the_file_naming_the_first_row(run: Run, book: Path, tmp_path: Path) -> None:
    src = write(tmp_path, "o.csv", HEAD + "Deal A,acme,prospecting,100,2026-05-20\nDeal B,acme,prospecting,200,03/05/2026\n")
    result = run("import", "opportunities", src)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: {src}: row 3, column close_date: '03/05/2026' could be 3 May or March 5; the file's date order is not "
        "stated, so nothing was imported: pass --date-format '%d/%m/%Y' (day first) or '%m/%d/%Y' (month first), "
        "or set date_format in the mapping")
    assert opps(book) == {}


def test_one_stated_format_reads_every_row_and_iso_dates_stay_fine(run: Run, book: Path, tmp_path: Path) -> None:
    src = write(tmp_path, "o.csv", HEAD + "A,acme,prospecting,1,04/05/2026\nB,acme,prospecting,1,13/05/2026\n"
                                          "C,acme,prospecting,1,2026-06-01\n")
    result = run("import", "opportunities", src, "--date-format", "%d/%m/%Y")
    assert result.exit_code == 0, result.output
    assert opps(book) == {"A": "2026-05-04", "B": "2026-05-13", "C": "2026-06-01"}


def test_a_list_of_formats_picks_one_order_for_the_whole_file(run: Run, book: Path, tmp_path: Path) -> None:
    # the Salesforce preset's list, month first then day first: the old code read 04/05 as April (month first)
    # and 13/05 as May (day first) in the same file
    mapping = write(tmp_path, "m.yaml", 'date_format: ["%m/%d/%Y", "%d/%m/%Y"]\n'
                                        "columns: {name: name, account: account, stage: stage, amount: amount, close_date: close_date}\n")
    src = write(tmp_path, "o.csv", HEAD + "A,acme,prospecting,1,04/05/2026\nB,acme,prospecting,1,13/05/2026\n")
    result = run("import", "opportunities", src, "--mapping", mapping)
    assert result.exit_code == 0, result.output
    assert opps(book) == {"A": "2026-05-04", "B": "2026-05-13"}
    assert "note: dates read as %d/%m/%Y, the one date_format of the mapping that reads every row" in result.stderr

    both = write(tmp_path, "p.csv", HEAD + "C,acme,prospecting,1,04/05/2026\nD,acme,prospecting,1,03/06/2026\n")
    result = run("import", "opportunities", both, "--mapping", mapping)
    assert result.exit_code == 1
    assert "row 2, column close_date: '04/05/2026' reads differently with %m/%d/%Y and %d/%m/%Y" in result.stderr
    mixed = write(tmp_path, "q.csv", HEAD + "E,acme,prospecting,1,04/15/2026\nF,acme,prospecting,1,13/05/2026\n")
    result = run("import", "opportunities", mixed, "--mapping", mapping)
    assert result.exit_code == 1
    assert "no one date order reads every row" in result.stderr
    assert set(opps(book)) == {"A", "B"}


def test_excel_serial_dates_in_the_1900_system(run: Run, book: Path, tmp_path: Path) -> None:
    # 45658 is 2025-01-01 in Excel; + 31 + 28 + 31 + 30 = 45778 is 2025-05-01. Days 1-59 count from 1899-12-31
    # (59 = 1900-02-28); day 60 is Excel's 29 February 1900, which never was; day 61 is 1900-03-01.
    src = write(tmp_path, "o.csv", HEAD + "A,acme,prospecting,1,45778\nB,acme,prospecting,1,59\n"
                                          "C,acme,prospecting,1,61\nD,acme,prospecting,1,45778.75\nE,acme,prospecting,1,2026-01-02\n")
    result = run("import", "opportunities", src, "--date-format", "excel")
    assert result.exit_code == 0, result.output
    assert opps(book) == {"A": "2025-05-01", "B": "1900-02-28", "C": "1900-03-01", "D": "2025-05-01", "E": "2026-01-02"}
    leap = write(tmp_path, "leap.csv", HEAD + "F,acme,prospecting,1,60\n")
    result = run("import", "opportunities", leap, "--date-format", "excel")
    assert result.exit_code == 1
    assert "'60' is 29 February 1900 in Excel's 1900 date system, a day that never was" in result.stderr
    # without the option a serial number is not a date, and the message says which option reads it
    result = run("import", "opportunities", write(tmp_path, "s.csv", HEAD + "G,acme,prospecting,1,45778\n"))
    assert "set date_format: excel" in result.stderr


def test_mapping_date_format_excel_is_a_mapping_option(run: Run, book: Path, tmp_path: Path) -> None:
    mapping = write(tmp_path, "m.yaml", "date_format: excel\ncolumns: {name: name, account: account, stage: stage, "
                                        "amount: amount, close_date: close_date}\n")
    result = run("import", "opportunities", write(tmp_path, "o.csv", HEAD + "A,acme,prospecting,1,45778\n"), "--mapping", mapping)
    assert result.exit_code == 0, result.output
    assert opps(book) == {"A": "2025-05-01"}
    bad = write(tmp_path, "bad.yaml", "date_format: [excel, '%d/%m/%Y']\ncolumns: {name: name}\n")
    result = run("import", "opportunities", write(tmp_path, "p.csv", HEAD + "B,acme,prospecting,1,1\n"), "--mapping", bad)
    assert result.exit_code == 1 and "date_format excel stands alone" in result.stderr


# ------------------------------------------------------------------ encodings

def test_a_windows_1252_file_from_european_excel_keeps_its_umlauts(run: Run, book: Path, tmp_path: Path) -> None:
    # the old code decoded this as GB18030 and committed "Hans M黮ler", even under --dry-run
    raw = "name,company,email\r\nHans Müller,Bäckerei Größe GmbH,hans@example.de\r\nJürgen Weiß,Brötchen AG,jw@example.de\r\n"
    src = write(tmp_path, "leads.csv", raw.encode("cp1252"))
    dry = run("import", "leads", src, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"note: {src}: read as cp1252 (detected, the only plausible reading; pass --encoding if that is wrong)" in dry.stderr
    result = run("import", "leads", src)
    assert result.exit_code == 0, result.output
    assert "read as cp1252" in result.stderr
    assert names(book) == ["Hans Müller", "Jürgen Weiß"]
    record = yaml.safe_load(next((book / "records" / "imports").glob("*.yaml")).read_text(encoding="utf-8"))
    assert record["options"]["encoding"] == "cp1252"


def test_the_issues_file_is_not_committed_as_gb18030(run: Run, book: Path, tmp_path: Path) -> None:
    # every byte of it is also valid GB18030, which the old code committed as "Hans M黮ler"
    result = run("import", "leads", write(tmp_path, "one.csv", "name,company\r\nHans Müller,Acme\r\n".encode("cp1252")))
    assert result.exit_code == 0, result.output
    assert names(book) == ["Hans Müller"]


def test_a_gb18030_file_from_chinese_excel(run: Run, book: Path, tmp_path: Path) -> None:
    raw = "name,company\r\n王磊,上海汽车集团股份有限公司\r\n张伟,宝钢机械制造有限公司\r\n李娜,华为技术有限公司\r\n"
    result = run("import", "leads", write(tmp_path, "线索.csv", raw.encode("gb18030")))
    assert result.exit_code == 0, result.output
    assert "read as gb18030 (detected, the only plausible reading; pass --encoding if that is wrong)" in result.stderr
    assert names(book) == ["张伟", "李娜", "王磊"]


def test_a_file_too_short_to_tell_is_refused_until_encoding_is_given(run: Run, book: Path, tmp_path: Path) -> None:
    src = write(tmp_path, "short.csv", "name,company\r\nWang,宝钢\r\n".encode("gb18030"))
    result = run("import", "leads", src)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {src}: cannot tell this file's encoding for sure: line 2 reads 'Wang,±¦¸Ö' in "
                                    "cp1252, 'Wang,宝钢' in gb18030")
    assert "pass --encoding with the right one" in result.stderr
    assert names(book) == []
    result = run("import", "leads", src, "--encoding", "gb18030")
    assert result.exit_code == 0, result.output
    assert f"note: {src}: read as gb18030 (--encoding)\n" in result.stderr
    assert names(book) == ["Wang"]


def test_code_pages_that_disagree_on_letters_are_refused_unless_the_book_lists_one(run: Run, book: Path, tmp_path: Path) -> None:
    raw = "name,company\r\nFrançois Lefèvre,Société Générale\r\nHans Müller,Bäckerei\r\n".encode("cp1252")
    src = write(tmp_path, "fr.csv", raw)
    result = run("import", "leads", src)
    assert result.exit_code == 1
    assert "'François Lefèvre,Société Générale' in cp1252, 'François Lefčvre,Société Générale' in cp1250" in result.stderr
    settings = book / "crm.yaml"
    text = settings.read_text(encoding="utf-8")
    assert "  encodings: [cp1252, gb18030, big5, cp932, cp949, cp1250, cp1251]" in text
    settings.write_text(text.replace("  encodings: [cp1252, gb18030, big5, cp932, cp949, cp1250, cp1251]",
                                     "  encodings: [cp1252]"), encoding="utf-8")
    result = run("import", "leads", src)
    assert result.exit_code == 0, result.output
    assert names(book) == ["François Lefèvre", "Hans Müller"]


def test_excel_sep_line_and_trailing_empty_columns(run: Run, book: Path, tmp_path: Path) -> None:
    # Excel writes "sep=;" when asked to, and empty columns after the last one it formatted
    src = write(tmp_path, "leads.csv", "sep=;\r\nname;company;;\r\nAnna Li;Acme, Inc.;;\r\nBo Wu;Ningbo;;\r\n")
    result = run("import", "leads", src)
    assert result.exit_code == 0, result.output
    assert f"note: {src}: delimiter ';' from the file's first line sep=;" in result.stderr
    assert names(book) == ["Anna Li", "Bo Wu"]
    companies = sorted(yaml.safe_load(p.read_text(encoding="utf-8"))["company"] for p in (book / "records/leads").glob("*.yaml"))
    assert companies == ["Acme, Inc.", "Ningbo"]


@pytest.mark.parametrize("body", ["name,company\r\n", "name,company,,\r\n,,,\r\n", "[]"])
def test_a_file_without_rows_says_no_rows(run: Run, book: Path, tmp_path: Path, body: str) -> None:
    src = write(tmp_path, "empty.json" if body == "[]" else "empty.csv", body)
    before = git(book, "log", "--oneline")
    result = run("import", "leads", src)
    assert result.exit_code == 1
    shown = "no rows" if body == "[]" else "no rows (only a header)"
    assert result.stderr.strip() == f"error: {src}: {shown}; nothing to import"
    assert git(book, "log", "--oneline") == before

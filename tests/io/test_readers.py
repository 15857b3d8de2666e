"""CSV/JSON/NDJSON readers: round trips (hypothesis), encodings, delimiters and hostile input."""
from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmctl.core.errors import CrmError
from crmctl.io import readers

# cell text as people type it: any printable text, no surrounding spaces (cells are stripped), not empty
cell = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"), min_size=1, max_size=20) \
    .map(str.strip).filter(bool).filter(lambda t: not (t[0] == "'" and len(t) > 1 and t[1] in "=+-@"))
header = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), min_size=1, max_size=6, unique=True)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[dict[str, str | None]]]:
    cols = draw(header)
    rows = draw(st.lists(st.fixed_dictionaries({c: st.one_of(st.none(), cell) for c in cols}), max_size=12))
    return cols, [r for r in rows if any(v is not None for v in r.values())]


@given(tables(), st.sampled_from([",", ";", "\t", "|"]), st.sampled_from(["utf-8", "utf-8-sig"]))
@settings(max_examples=80, deadline=None)
def test_csv_written_then_read_back_is_equal(table: tuple[list[str], list[dict[str, str | None]]], delimiter: str,
                                             encoding: str) -> None:
    cols, rows = table
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(cols)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in cols])
    got = readers.read(buf.getvalue().encode(encoding), "x.csv", delimiter=delimiter)
    assert got.columns == cols
    assert [r for _, r in got.rows] == rows


@given(tables())
@settings(max_examples=60, deadline=None)
def test_json_and_ndjson_round_trip(table: tuple[list[str], list[dict[str, str | None]]]) -> None:
    _, rows = table
    as_json = readers.read(json.dumps(rows, ensure_ascii=False).encode(), "x.json")
    as_ndjson = readers.read("\n".join(json.dumps(r) for r in rows).encode(), "x.ndjson")
    assert [r for _, r in as_json.rows] == rows
    assert [r for _, r in as_ndjson.rows] == rows


def test_gb18030_as_chinese_excel_writes_it() -> None:
    text = "公司,联系人,电话\r\n上海汽车集团股份有限公司,王磊,13800138000\r\n"
    got = readers.read(text.encode("gb18030"), "客户.csv")
    assert got.encoding == "gb18030"
    assert got.rows == [(2, {"公司": "上海汽车集团股份有限公司", "联系人": "王磊", "电话": "13800138000"})]


def test_utf8_with_bom_is_read_without_the_bom() -> None:
    got = readers.read("\ufeffname,city\n张伟,苏州\n".encode("utf-8"), "a.csv")
    assert got.columns == ["name", "city"]
    assert got.encoding == "utf-8"


def test_mixed_encodings_name_the_line_and_byte() -> None:
    raw = "name,city\n张伟,苏州\n".encode("utf-8") + "李娜,杭州\n".encode("gbk")
    with pytest.raises(CrmError, match=r"line 3, byte \d+: not UTF-8.*mixed encodings"):
        readers.read(raw, "a.csv")


def test_encoding_override_and_its_error() -> None:
    raw = "name\nJosé\n".encode("latin-1")
    assert readers.read(raw, "a.csv", encoding="latin-1").rows[0][1] == {"name": "José"}
    with pytest.raises(CrmError, match=r"line 2, byte 8: not valid utf-8"):
        readers.read(raw, "a.csv", encoding="utf-8")
    with pytest.raises(CrmError, match="unknown encoding"):
        readers.read(raw, "a.csv", encoding="klingon")


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(delimiter: str) -> None:
    city = "Ningbo, Zhejiang" if delimiter != "," else "Ningbo"  # a comma inside a cell must not fool the sniffer
    text = delimiter.join(["name", "email", "city"]) + "\n" + delimiter.join(["Li Na", "li@x.cn", city]) + "\n"
    got = readers.read(text.encode(), "a.csv")
    assert got.delimiter == delimiter
    assert got.rows[0][1]["email"] == "li@x.cn"


def test_a_single_column_file_falls_back_to_comma() -> None:
    assert readers.read(b"name\nAnna\nBob\n", "a.csv").rows[1][1] == {"name": "Bob"}


def test_a_million_columns_is_a_clear_error() -> None:
    raw = b"a,b\n" + b"," * 1_000_000 + b"\n"
    with pytest.raises(CrmError, match=r"row 2: 1000001 columns; at most 500"):
        readers.read(raw, "a.csv")


def test_a_huge_cell_is_a_clear_error() -> None:
    raw = b"a,b\n" + b"x" * (2 * readers.MAX_CELL_BYTES) + b",1\n"
    with pytest.raises(CrmError, match=r"row 2: cannot read CSV: a cell larger than 1048576 bytes"):
        readers.read(raw, "a.csv")


def test_a_huge_quoted_cell_is_a_clear_error() -> None:
    raw = b'a,b\n"' + b"y\n" * readers.MAX_CELL_BYTES + b'",1\n'
    with pytest.raises(CrmError, match="a cell larger than"):
        readers.read(raw, "a.csv")


def test_nul_bytes_and_utf16() -> None:
    with pytest.raises(CrmError, match="NUL byte"):
        readers.read("name\nAnna\n".encode("utf-16-le"), "a.csv")  # no byte order mark: not readable as text
    got = readers.read("name\tcity\nAnna\tMünchen\n".encode("utf-16"), "a.txt")  # Excel's "Unicode text"
    assert (got.encoding, got.rows) == ("utf-16", [(2, {"name": "Anna", "city": "München"})])
    assert got.notes == ["a.txt: read as utf-16 (its byte order mark)"]


def test_bad_json_names_line_and_column() -> None:
    with pytest.raises(CrmError, match=r"line 2, column \d+: invalid JSON"):
        readers.read(b'[{"a": 1},\n {"a": }]', "a.json")
    with pytest.raises(CrmError, match=r"line 2, column 1: invalid JSON"):
        readers.read(b'{"a": 1}\n}\n', "a.ndjson")
    with pytest.raises(CrmError, match="array of objects"):
        readers.read(b'{"a": 1}', "a.json")
    with pytest.raises(CrmError, match="nested too deeply"):
        readers.read(b"[" * 100_000 + b"]" * 100_000, "a.json")


def test_format_from_content_for_stdin() -> None:
    assert readers.guess_format("-", b'  [{"a": 1}]') == "json"
    assert readers.guess_format("-", b'{"a": 1}\n{"a": 2}') == "ndjson"
    assert readers.guess_format("-", b"a,b\n1,2") == "csv"


def test_header_problems() -> None:
    with pytest.raises(CrmError, match="column 'a' appears twice"):
        readers.read(b"a,a\n1,2\n", "a.csv")
    with pytest.raises(CrmError, match="a column has no name"):
        readers.read(b"a,,b\n1,2,3\n", "a.csv")
    with pytest.raises(CrmError, match="row 2: 3 cells but the header has 2"):
        readers.read(b"a,b\n1,2,3\n", "a.csv")
    with pytest.raises(CrmError, match="empty"):
        readers.read(b"", "a.csv")

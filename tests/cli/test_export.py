"""`crmctl export`: formats, --where, formula neutralisation, and a CSV export that re-imports as it was."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import yaml

from tests.conftest import Run, invoke


def test_csv_export_neutralises_formulas_and_reimports_unchanged(run: Run, book: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.json"
    src.write_text(json.dumps([{"name": '=HYPERLINK("http://evil")', "company": "@SUM(A1)", "notes": "-2+3", "score": 5},
                               {"name": "Plain", "company": "-42", "tags": ["a", "b"]}]), encoding="utf-8")
    assert run("import", "leads", str(src)).exit_code == 0
    result = run("export", "leads")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    by_name = {r["name"]: r for r in rows}
    assert "'=HYPERLINK(\"http://evil\")" in by_name
    evil = by_name["'=HYPERLINK(\"http://evil\")"]
    assert evil["company"] == "'@SUM(A1)" and evil["notes"] == "'-2+3"
    assert by_name["Plain"]["company"] == "-42"  # a number is not a formula
    assert by_name["Plain"]["tags"] == "a, b"
    # into another book: the neutralised cells come back as they were
    other = tmp_path / "other"
    assert invoke("init", str(other)).exit_code == 0
    out = tmp_path / "leads.csv"
    assert run("export", "leads", "--out", str(out)).exit_code == 0
    result = invoke("import", "leads", str(out), book=other)
    assert result.exit_code == 0, result.output
    first = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in (book / "records" / "leads").glob("*.yaml")}
    second = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in (other / "records" / "leads").glob("*.yaml")}
    assert first == second


def test_json_ndjson_yaml_and_where(run: Run) -> None:
    data = json.loads(run("export", "users", "--format", "json").stdout)
    assert [u["id"] for u in data] == ["dan", "mia", "rex", "ria"]
    lines = run("export", "users", "--format", "ndjson", "--where", "role=rep").stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["rex", "ria"]
    assert yaml.safe_load(run("export", "accounts", "--format", "yaml").stdout)[0]["id"] == "acme"
    result = run("export", "widgets")
    assert result.exit_code == 1 and "unknown record type 'widgets'" in result.stderr

"""Text typed into crmctl stays text to a YAML 1.1 reader (PyYAML's default loader), through `--set` and imports."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Run
from tests.yaml11 import YAML_1_1_EXAMPLES, assert_text_stays_text, texts_that_look_like_something

# argv cannot hold NUL, and --set/import trim the ends of a value: what is stored is the stripped text
typed = texts_that_look_like_something.filter(lambda t: "\x00" not in t)


def stored(book: Path, rtype: str, rid: str) -> tuple[str, dict]:
    text = (book / "records" / rtype / f"{rid}.yaml").read_text(encoding="utf-8")
    return text, yaml.safe_load(text)


@pytest.mark.parametrize("value", [v for v in YAML_1_1_EXAMPLES if v])
def test_set_writes_every_yaml_1_1_special_as_text(run: Run, book: Path, value: str) -> None:
    r = run("account", "edit", "acme", "--set", f"notes={value}", "--set", f"industry={value}")
    assert r.exit_code == 0, r.output
    text, data = stored(book, "accounts", "acme")
    assert data["notes"] == value and data["industry"] == value
    assert_text_stays_text(text, data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=typed)
def test_set_any_text_reads_back_the_same_in_yaml_1_1(run: Run, book: Path, value: str) -> None:
    r = run("--no-commit", "account", "edit", "acme", "--set", f"notes={value}")
    assert r.exit_code == 0, r.output
    text, data = stored(book, "accounts", "acme")
    assert data.get("notes") == (value.strip() or None)
    assert_text_stays_text(text, data)


def test_csv_import_writes_every_yaml_1_1_special_as_text(run: Run, book: Path, tmp_path: Path) -> None:
    values = [v for v in YAML_1_1_EXAMPLES if v]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "industry", "notes"])
    for i, value in enumerate(values):
        writer.writerow([f"Company {i}", value, value])
    (tmp_path / "accounts.csv").write_text(out.getvalue(), encoding="utf-8")
    r = run("import", "accounts", str(tmp_path / "accounts.csv"))
    assert r.exit_code == 0, r.output
    for i, value in enumerate(values):
        text, data = stored(book, "accounts", f"company-{i}")
        assert (data["industry"], data["notes"]) == (value, value)
        assert_text_stays_text(text, data)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(typed, min_size=1, max_size=8))
def test_json_import_of_any_text_reads_back_the_same_in_yaml_1_1(run: Run, book: Path, tmp_path: Path, values: list[str]) -> None:
    prefix = f"T{abs(hash(tuple(values))) % 10**9} "  # a fresh set of accounts per example
    rows = [{"name": f"{prefix}{i}", "notes": value} for i, value in enumerate(values)]
    src = tmp_path / "accounts.json"
    src.write_text(json.dumps(rows), encoding="utf-8")
    r = run("--no-commit", "import", "accounts", str(src), "--format", "json")
    assert r.exit_code == 0, r.output
    for i, value in enumerate(values):
        text, data = stored(book, "accounts", f"{prefix.strip().lower()}-{i}")
        assert data.get("notes") == (value.strip() or None)
        assert_text_stays_text(text, data)

"""The whole public data set (../shared/datasets/crm-sales-opportunities) through the example mappings.

Runs in the normal suite (about half a minute here): a book made by `crmctl init`
with the example crm.yaml takes accounts, products, managers and reps, then the
8,800-row pipeline with --skip-invalid; the counts, a few records checked by
hand against the CSV, a clean `crmctl check` and an idempotent re-run.
"""
from __future__ import annotations

import csv
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, git, invoke

DATASET = REPO.parent / "shared" / "datasets" / "crm-sales-opportunities"
EXAMPLES = REPO / "examples" / "datasets" / "crm-sales-opportunities"

pytestmark = pytest.mark.skipif(not (DATASET / "sales_pipeline.csv").exists(), reason=f"data set not at {DATASET}")


def load(book: Path, rtype: str) -> dict[str, dict]:
    return {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in (book / "records" / rtype).glob("*.yaml")}


def counts(result) -> dict[str, int]:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_whole_dataset_imports_with_the_example_mappings(tmp_path: Path) -> None:
    book = tmp_path / "maven"
    assert invoke("init", str(book)).exit_code == 0
    shutil.copy(EXAMPLES / "crm.yaml", book / "crm.yaml")
    data = tmp_path / "data"
    data.mkdir()  # the rejected rows go beside the input, and the shared copy is read-only
    for src in DATASET.glob("*.csv"):
        shutil.copyfile(src, data / src.name)

    def imp(rtype: str, csv_name: str, mapping: str, *extra: str) -> dict[str, int]:
        return counts(invoke("import", rtype, str(data / csv_name), "--mapping", str(EXAMPLES / mapping), "--format", "json",
                             *extra, book=book))

    assert imp("accounts", "accounts.csv", "accounts.yaml") == \
        {"read": 85, "created": 85, "updated": 0, "duplicates": 0, "rejected": 0}
    assert imp("products", "products.csv", "products.yaml")["created"] == 7
    assert imp("users", "sales_teams.csv", "managers.yaml") == \
        {"read": 35, "created": 6, "updated": 0, "duplicates": 29, "rejected": 0}
    assert imp("users", "sales_teams.csv", "users.yaml")["created"] == 35
    commits_before = len(git(book, "log", "--oneline").splitlines())
    pipeline = imp("opportunities", "sales_pipeline.csv", "opportunities.yaml", "--skip-invalid")
    # 1,425 open deals (1,088 engaging, 337 prospecting) name no account: an opportunity needs one
    assert pipeline == {"read": 8800, "created": 7375, "updated": 0, "duplicates": 0, "rejected": 1425}
    assert len(git(book, "log", "--oneline").splitlines()) == commits_before + 1

    rejected = list(csv.DictReader((data / "sales_pipeline.rejected.csv").open(encoding="utf-8")))
    assert len(rejected) == 1425 and {r["reason"] for r in rejected} == {"account is required"}
    assert {r["deal_stage"] for r in rejected} == {"Engaging", "Prospecting"}

    accounts, products, users = load(book, "accounts"), load(book, "products"), load(book, "users")
    assert accounts["acme-corporation"]["industry"] == "technology"  # technolgy, translated
    assert accounts["bluth-company"]["parent"] == "acme-corporation"
    assert accounts["acme-corporation"]["revenue_musd"] == "1100.04" and accounts["acme-corporation"]["employees"] == 2822
    assert sum(a.get("country") == "Philippines" for a in accounts.values()) == 1
    assert products["gtx-pro"]["prices"] == {"USD": "4821.00"}
    anna = users["anna-snelling"]
    assert (anna["manager"], anna["role"], anna["territory"], anna["email"]) == \
        ("dustin-brinkmann", "rep", "Central", "anna.snelling@maventech.example")
    assert users["dustin-brinkmann"]["role"] == "manager"

    opps = load(book, "opportunities")
    by_ext = {o["ext_id"]: o for o in opps.values()}
    deal = by_ext["Z063OYW0"]  # Darcel Schlecht, GTXPro, Isdom, Won, 2016-10-25 .. 2017-03-11, 4514
    assert (deal["owner"], deal["product"], deal["account"], deal["stage"], deal["amount"], deal["currency"]) == \
        ("darcel-schlecht", "gtx-pro", "isdom", "won", "4514.00", "USD")
    assert (deal["engage_date"], deal["close_date"], deal["name"]) == ("2016-10-25", "2017-03-11", "GTX Pro for Isdom")
    stages: dict[str, int] = {}
    for o in opps.values():
        stages[o["stage"]] = stages.get(o["stage"], 0) + 1
    assert stages == {"won": 4238, "lost": 2473, "qualification": 501, "prospecting": 163}
    assert sum(o["product"] == "gtx-pro" for o in opps.values()) == 1258
    assert sum(Decimal(o["amount"]) for o in opps.values() if o["stage"] == "won") == Decimal("10005534")

    result = invoke("check", book=book)
    assert result.exit_code == 0, result.output

    # the same import again: nothing changes, no commit, no new import record
    again = imp("opportunities", "sales_pipeline.csv", "opportunities.yaml", "--skip-invalid")
    assert again == {"read": 8800, "created": 0, "updated": 0, "duplicates": 7375, "rejected": 1425}
    assert len(git(book, "log", "--oneline").splitlines()) == commits_before + 1
    assert git(book, "status", "--porcelain", "records") == ""

"""The 360° view's figures against hand-computed numbers (see tests/mcr/conftest.py)."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Run
from tests.mcr.conftest import put


def view(run: Run, ref: str = "acme") -> dict:
    result = run("account", "show", ref, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_revenue_rolls_up_the_group_and_converts_currencies(run: Run, sales: Path) -> None:
    data = view(run)
    orders = data["orders"]
    assert orders["this_year"] == "120000.00"          # 100000 + 20000 from acme-east
    assert orders["last_year"] == "71000.00"           # USD 10000 × 7.10 on 2025-05-01
    assert orders["lifetime"] == "196000.00"           # + 5000 in 2024; the cancelled order never counts
    assert orders["orders"] == 4
    assert [r["id"] for r in orders["rows"]][:2] == ["o4", "o5"]
    assert data["key_figures"]["lifetime_revenue"] == "196000.00"
    assert data["key_figures"]["rolled_up_over"] == 3


def test_pipeline_receivables_and_visits(run: Run, sales: Path) -> None:
    data = view(run)
    opps = data["opportunities"]
    assert opps["count"] == 2
    assert opps["pipeline_value"] == "57200.00"        # 50000 + USD 1000 × 7.20 (rate of 2026-06-01)
    assert opps["weighted"] == "26440.00"              # 50000 × 50% + 7200 × 20%
    rec = data["receivables"]
    assert rec["outstanding"] == "60000.00" and rec["overdue"] == "60000.00"
    assert [(r["number"], r["paid"], r["status"]) for r in rec["rows"]] == [("SO-2026-03-01-acme", "40000.00", "overdue")]
    visits = data["visits"]
    assert visits["last"] == "2026-11-17" and visits["next"] == "2026-12-03"
    assert visits["done_last_90_days"] == 2 and visits["cadence_days"] == 7
    assert visits["next_due"] == "2026-11-24" and visits["cadence"] == "behind"
    assert [f["text"] for f in visits["open_follow_ups"]] == ["send drawings"]


def test_health_score_by_the_documented_formula(run: Run, sales: Path) -> None:
    figures = view(run)["key_figures"]
    # recency 30 × (1 − 10/180) = 28.33; cadence 20 × 2 / (90/7) = 3.11; growth (120000 vs 71000) 20;
    # payment 20 × (1 − 60000/60000) = 0; pipeline 10  → 61.44 → 61
    assert figures["health_parts"] == {"recency": "28.33", "cadence": "3.11", "growth": "20.00", "payment": "0.00",
                                       "pipeline": "10.00"}
    assert figures["health"] == 61
    assert figures["days_since_last_touch"] == 10 and figures["last_touch"] == "2026-11-17"


def test_hierarchy_shows_parents_and_rolled_up_subsidiaries(run: Run, sales: Path) -> None:
    data = view(run, "acme-east-lab")
    assert [p["id"] for p in data["hierarchy"]["parents"]] == ["acme-east", "acme"]
    top = view(run)["hierarchy"]["subsidiaries"]
    assert [(r["id"], r["revenue_lifetime"]) for r in top] == [("acme-east", "20000.00"), ("acme-east-lab", "0.00")]


def test_contacts_by_role_and_timeline_with_git(run: Run, sales: Path) -> None:
    boss = run("contact", "add", "--name", "Boss", "--account", "acme", "--role", "decision_maker").stdout.strip()
    assert run("contact", "add", "--name", "Eve", "--account", "acme-east", "--role", "user", "--reports-to", boss).exit_code == 0
    data = view(run)
    rows = data["contacts"]["rows"]
    assert [(r["role"], r["name"], r["reports_to"]) for r in rows] == [("decision_maker", "Boss", None), ("user", "Eve", "Boss")]
    assert data["contacts"]["roles_missing"] == "economic_buyer, influencer, technical_evaluator, gatekeeper, champion"
    events = [e["what"] for e in data["timeline"]["rows"]]
    assert any(e.startswith("git: contact add") for e in events)
    assert "order SO-2026-03-01-acme: 100000.00 CNY" in events


def test_empty_account_shows_empty_sections(run: Run, now: str) -> None:
    result = run("account", "show", "baosteel")
    assert result.exit_code == 0, result.output
    for title in ("== Profile", "== Hierarchy", "== Open opportunities", "== Orders and revenue", "== Receivables",
                  "== Visits", "== Timeline"):
        assert title in result.stdout
    data = view(run, "baosteel")
    assert data["orders"]["lifetime"] == "0.00" and data["orders"]["rows"] == []
    assert data["visits"]["cadence"] == "never visited"


def test_a_missing_exchange_rate_is_one_clear_line(run: Run, book: Path, now: str) -> None:
    put(book, [("orders", "x1", {"number": "SO-1", "account": "acme", "date": "2026-01-01", "currency": "JPY", "total": "100"})])
    result = run("account", "show", "acme")
    assert result.exit_code == 1
    assert result.stderr.strip() == 'error: no exchange rate for JPY; add it to records/rates.yaml as {YYYY-MM-DD: {JPY: "RATE"}}'


def test_custom_fields_show_in_the_profile(run: Run, book: Path, now: str) -> None:
    settings = (book / "crm.yaml").read_text(encoding="utf-8")
    assert "custom_fields: {}" in settings
    (book / "crm.yaml").write_text(settings.replace("custom_fields: {}", "custom_fields: {accounts: {credit_limit: money}}"),
                                   encoding="utf-8")
    assert run("account", "edit", "acme", "--set", "credit_limit=200000").exit_code == 0
    assert view(run)["profile"]["credit_limit"] == "200000.00"


def test_quotes_and_their_approvals_in_the_timeline(run: Run, sales: Path) -> None:
    put(sales, [("quotes", "q1", {"number": "QT-2026-0001", "version": 2, "account": "acme", "status": "sent", "currency": "CNY",
                                  "date": "2026-11-20", "total": "48000.00",
                                  "approvals": [{"decision": "approved", "at": "2026-11-19T16:00:00+08:00", "by": "mia"}]}),
                ("quotes", "q0", {"number": "QT-2026-0000", "account": "acme-east", "status": "declined", "currency": "CNY",
                                  "date": "2026-10-01"})])
    data = view(run)
    assert data["quotes"]["open"] == 1
    assert [(q["number"], q["status"]) for q in data["quotes"]["rows"]] == [("QT-2026-0001", "sent"), ("QT-2026-0000", "declined")]
    events = {(e["at"], e["what"], e["by"]) for e in data["timeline"]["rows"]}
    assert ("2026-11-19 16:00:00", "quote QT-2026-0001: approved", "mia") in events
    # the quote date is a touch: 2026-11-20 is later than the last visit
    assert data["key_figures"]["last_touch"] == "2026-11-20"


def test_a_hand_edited_bad_date_does_not_break_the_view(run: Run, sales: Path) -> None:
    (sales / "records/visits/v9.yaml").write_text("account: acme\nrep: rex\ntype: onsite\nstatus: completed\ndate: someday\n",
                                                  encoding="utf-8")
    data = view(run)
    assert data["visits"]["last"] == "2026-11-17" and data["key_figures"]["last_touch"] == "2026-11-17"
    assert run("check").exit_code == 1  # check is where the bad date is reported

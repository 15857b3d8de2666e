"""L2C reports on the demo book, checked against figures computed by hand.

The demo's deals and payments were made with a fixed clock (today is
2026-11-27) by scripts/l2c_demo_records.sh; rates are L2C's (USD 7.15/7.12/7.10
and EUR 7.80/7.75/7.70 from 2026-07-01, -10-01, -11-02).

The merged demo book also holds CPQ's and MCR's deals, orders, payments and
rates, so these tests run on ``l2c_book``: a copy of the demo book that keeps
only the L2C records (below), so the hand-computed figures stay L2C's alone.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import invoke
from tests.l2c.helpers import at, ok, won_deal

TODAY = at("2026-11-27")

# The records scripts/l2c_demo_records.sh made (commit "L2C demo book: ..."), by type.
L2C_RECORDS = {
    "leads": {"2ndthyevw089", "2ndthyp06c27", "2ndthyxhshpx", "2ndthz57heht", "2ndthzcvjjxs", "2ndthzpnansv",
              "2ndtj01mx35s", "2ndtj0rcvqqb", "2ndtj1k56vqt", "2ndtj2etztpm", "2ndtj3angqqn"},
    "opportunities": {"2ndtj26jtxsn", "2ndtj2ps67v4", "2ndtj3nf9dg7", "2ndtj3z55hzs", "2ndtj46n2368",
                      "2ndtj4dvqknn", "2ndtj4mm3vkw", "2ndtj4y3hg40", "2ndtj57zwbjp", "2ndtj5jdw9r2"},
    "orders": {"2ndtjjnwcfns", "2ndtjmfy0zk1", "2ndtjprh9jne", "2ndtjr6s78rb"},
    "payments": {"2ndtjksp49bk", "2ndtjm4h9gxm", "2ndtjns6rrw9", "2ndtjpaf49dn", "2ndtjqv2m5qc"},
    "quotes": set(),  # CPQ's; they point at CPQ's deals
}
# L2C's rates, as scripts/l2c_demo_records.sh writes them (the demo book's file also has MCR's older ones).
L2C_RATES = '''\
"2026-07-01": {USD: "7.15", EUR: "7.80"}
"2026-10-01": {USD: "7.12", EUR: "7.75"}
"2026-11-02": {USD: "7.10", EUR: "7.70"}
'''


@pytest.fixture
def l2c_book(demo_copy: Path) -> Path:
    """The demo book with only the L2C deals, orders, payments, leads and rates."""
    for rtype, keep in L2C_RECORDS.items():
        for path in (demo_copy / "records" / rtype).glob("*.yaml"):
            if path.stem not in keep:
                path.unlink()
        assert {p.stem for p in (demo_copy / "records" / rtype).glob("*.yaml")} == keep  # none renamed or lost
    (demo_copy / "records" / "rates.yaml").write_text(L2C_RATES, encoding="utf-8")
    return demo_copy


def report(book: Path, *args: str) -> list[dict]:
    result = invoke("report", *args, "--format", "json", book=book, env=TODAY)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def by(rows: list[dict], key: str) -> dict[str, dict]:
    return {r[key]: r for r in rows}


def test_pipeline_today(l2c_book: Path) -> None:
    rows = by(report(l2c_book, "pipeline"), "stage")
    # prospecting 2,600,000 (10%); qualification 36,000 USD x 7.10; proposal 1,480,000 + 420,000 (50%); negotiation 1,250,000 (75%)
    assert (rows["prospecting"]["amount"], rows["prospecting"]["weighted"]) == ("2600000.00", "260000.00")
    assert (rows["qualification"]["amount"], rows["qualification"]["weighted"]) == ("255600.00", "51120.00")
    assert (rows["proposal"]["count"], rows["proposal"]["amount"], rows["proposal"]["weighted"]) == (2, "1900000.00", "950000.00")
    assert rows["negotiation"]["weighted"] == "937500.00"
    assert (rows["total"]["count"], rows["total"]["amount"], rows["total"]["weighted"]) == (5, "6005600.00", "2198620.00")


def test_pipeline_as_of_a_past_day(l2c_book: Path) -> None:
    rows = by(report(l2c_book, "pipeline", "--as-of", "2026-08-31"), "stage")
    # on 2026-08-31: Bavaria (48,000 EUR x 7.80) in qualification; Lone Star (52,000 USD x 7.15) and
    # Hangzhou (210,000) in proposal; Shaoxing (380,000) and SAIC Powertrain (960,000) in negotiation
    assert rows["qualification"]["amount"] == "374400.00"
    assert rows["proposal"]["amount"] == "581800.00"
    assert (rows["negotiation"]["count"], rows["negotiation"]["amount"]) == (2, "1340000.00")
    assert "prospecting" not in rows and rows["total"]["amount"] == "2296200.00"


def test_pipeline_by_owner_in_a_period(l2c_book: Path) -> None:
    rows = by(report(l2c_book, "pipeline", "--by", "owner", "--period", "2026-Q4"), "owner")
    # deals closing in Q4 only: li-na 1,250,000; zhou-tao 1,480,000 (no close date: not in any period)
    assert {k: v["amount"] for k, v in rows.items()} == {"li-na": "1250000.00", "zhou-tao": "1480000.00", "total": "2730000.00"}


def test_receivables_aging_today_and_in_the_past(l2c_book: Path) -> None:
    rows = by(report(l2c_book, "receivables"), "account")
    sp = rows["saic-powertrain"]  # 4 x 240,000 due 09-20..12-20; 340,000 received
    assert (sp["current"], sp["1-30"], sp["31-60"], sp["total"]) == ("240000.00", "240000.00", "140000.00", "620000.00")
    assert (rows["bavaria-gears"]["current"], rows["bavaria-gears"]["1-30"]) == ("184800.00", "184800.00")  # 24,000 EUR x 7.70
    assert rows["lone-star-fab"]["current"] == "221520.00"  # 31,200 USD x 7.10
    assert "shaoxing-textile" not in rows  # paid in full
    assert rows["total"]["total"] == "1211120.00"
    past = by(report(l2c_book, "receivables", "--as-of", "2026-10-21"), "account")
    assert past["shaoxing-textile"]["current"] == "266000.00"
    assert (past["saic-powertrain"]["current"], past["saic-powertrain"]["1-30"]) == ("480000.00", "240000.00")
    assert past["lone-star-fab"]["current"] == "222144.00"  # 31,200 USD x 7.12
    assert "bavaria-gears" not in past and past["total"]["total"] == "1208144.00"


def test_forecast_against_quota(l2c_book: Path) -> None:
    rows = by(report(l2c_book, "forecast", "--period", "2026-Q4"), "owner")
    tom = rows["tom-baker"]  # won in Q4: 52,000 USD x 7.10 + 48,000 EUR x 7.70
    assert (tom["quota"], tom["closed"], tom["attainment_%"], tom["gap"]) == ("900000.00", "738800.00", "82.1", "161200.00")
    assert rows["li-na"]["commit"] == "1250000.00" and rows["zhou-tao"]["best_case"] == "1480000.00"
    q3 = by(report(l2c_book, "forecast", "--period", "2026-Q3"), "owner")
    assert q3["li-na"]["closed"] == "960000.00" and q3["zhou-tao"]["closed"] == "380000.00"


def test_funnel_from_leads_to_won(l2c_book: Path) -> None:
    steps = by(report(l2c_book, "funnel"), "step")
    assert (steps["leads"]["count"], steps["converted"]["count"], steps["converted"]["conversion_%"]) == (11, 3, "27.3")
    assert (steps["prospecting"]["count"], steps["won"]["count"]) == (10, 4)
    assert steps["lead_to_won"]["count"] == 2
    july = by(report(l2c_book, "funnel", "--as-of", "2026-07-31"), "step")
    assert (july["leads"]["count"], july["converted"]["count"], july["won"]["count"]) == (3, 2, 0)


def test_velocity_from_stage_history(run, book: Path) -> None:  # type: ignore[no-untyped-def]
    won_deal(run)  # created 07-01, advanced 07-05, 07-10, 07-20, won 08-01
    rows = by(json.loads(ok(run, "report", "velocity", "--format", "json")), "stage")
    assert {k: v["avg_days"] for k, v in rows.items()} == {
        "prospecting": "4.0", "qualification": "5.0", "proposal": "10.0", "negotiation": "12.0"}


def test_a_missing_rate_is_an_error_naming_currency_and_date(l2c_book: Path) -> None:
    rates = l2c_book / "records" / "rates.yaml"
    rates.write_text(rates.read_text().replace(", EUR: \"7.80\"", ""))
    result = invoke("report", "pipeline", "--as-of", "2026-08-31", book=l2c_book, env=TODAY)
    assert result.exit_code == 1
    # the first line says which book --as-of read (here: the records' own histories), the last is the error
    assert result.stderr.strip().splitlines()[-1].startswith("error: no EUR rate on or before 2026-08-31 in records/rates.yaml")


@pytest.mark.parametrize("args, message", [
    (("pipeline", "--as-of", "31/08/2026"), "--as-of: '31/08/2026' is not a date"),
    (("pipeline", "--period", "2026-Q7"), "--period '2026-Q7'"),
])
def test_bad_report_options(l2c_book: Path, args: tuple[str, ...], message: str) -> None:
    result = invoke("report", *args, book=l2c_book, env=TODAY)
    assert result.exit_code == 1 and message in result.stderr


def test_pipeline_pdf_has_the_figures(l2c_book: Path, tmp_path: Path) -> None:
    out = tmp_path / "pipeline.pdf"
    result = invoke("report", "pipeline", "--pdf", str(out), book=l2c_book, env=TODAY)
    assert result.exit_code == 0, result.output
    text = "".join(page.extract_text() for page in PdfReader(str(out)).pages)
    for figure in ("¥6,005,600.00", "¥2,198,620.00", "¥1,900,000.00", "¥255,600.00", "商务谈判"):
        assert figure in text
    assert "销售管道" in text and "加权金额" in text and "合计" in text  # the book's locale is zh_CN: headers and stage names in Chinese
    assert "negotiation" not in text and "weighted" not in text        # no slugs, no field names



def test_receivables_pdf_as_of(l2c_book: Path, tmp_path: Path) -> None:
    out = tmp_path / "aging.pdf"
    result = invoke("report", "receivables", "--as-of", "2026-10-21", "--pdf", str(out), book=l2c_book, env=TODAY)
    assert result.exit_code == 0, result.output
    text = "".join(page.extract_text() for page in PdfReader(str(out)).pages)
    assert "¥1,208,144.00" in text and "¥222,144.00" in text and "2026年10月21日" in text


def test_funnel_pdf_has_the_funnel_chart_and_counts(l2c_book: Path, tmp_path: Path) -> None:
    out = tmp_path / "funnel.pdf"
    result = invoke("report", "funnel", "--pdf", str(out), book=l2c_book, env=TODAY)
    assert result.exit_code == 0, result.output
    text = "".join(page.extract_text() for page in PdfReader(str(out)).pages)
    assert "销售漏斗" in text and "线索到赢单" in text and "27.3%" in text and "18.2%" in text

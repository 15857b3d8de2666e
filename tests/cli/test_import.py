"""`crmctl import`: all or nothing, --skip-invalid, idempotent re-runs, duplicates, presets, stdin."""
from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from tests.conftest import Run, err_line, fed_pipe, git, invoke

LEADS = """name,company,email,phone,source,score
张伟,苏州精密,zhang.wei@example.cn,138 0013 8000,Trade Show,40
Anna Berg,Bavaria Gears GmbH,anna@bavaria.example,+49 89 1234567,web,70
Tom Li,Ningbo Moulds,tom@ningbo.example,,referral,
"""


def files(book: Path, rtype: str) -> dict[str, str]:
    folder = book / "records" / rtype
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yaml"))} if folder.exists() else {}


def commits(book: Path) -> int:
    return len(git(book, "log", "--oneline").splitlines())


def test_import_leads_writes_records_an_import_record_and_one_commit(run: Run, book: Path, tmp_path: Path) -> None:
    src = tmp_path / "leads.csv"
    src.write_text(LEADS, encoding="utf-8")
    before = commits(book)
    result = run("import", "lead", str(src), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"read": 3, "created": 3, "updated": 0, "duplicates": 0, "rejected": 0}
    leads = [yaml.safe_load(t) for t in files(book, "leads").values()]
    assert sorted(lead["name"] for lead in leads) == ["Anna Berg", "Tom Li", "张伟"]
    assert {lead["source"] for lead in leads} == {"trade_show", "web", "referral"}
    assert all(lead["status"] == "new" for lead in leads)
    (record,) = [yaml.safe_load(t) for t in files(book, "imports").values()]
    assert record["counts"] == {"read": 3, "created": 3, "updated": 0, "duplicates": 0, "rejected": 0}
    assert record["type"] == "leads" and record["file"] == str(src) and len(record["sha256"]) == 64
    assert commits(book) == before + 1
    assert "import leads: leads.csv (3 created" in git(book, "log", "-1", "--format=%s")
    assert git(book, "status", "--porcelain") == ""


def test_rerun_changes_nothing_and_makes_no_commit(run: Run, book: Path, tmp_path: Path) -> None:
    src = tmp_path / "leads.csv"
    src.write_text(LEADS, encoding="utf-8")
    assert run("import", "leads", str(src)).exit_code == 0
    before, snapshot = commits(book), {t: files(book, t) for t in ("leads", "imports")}
    for mode in ("skip", "update"):
        result = run("import", "leads", str(src), "--on-duplicate", mode, "--format", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["duplicates"] == 3
        assert json.loads(result.stdout)["updated"] == 0
        assert "nothing to import" in result.stderr
    assert commits(book) == before
    assert {t: files(book, t) for t in ("leads", "imports")} == snapshot


def test_on_duplicate_update_changes_only_what_differs_and_error_refuses(run: Run, book: Path, tmp_path: Path) -> None:
    src = tmp_path / "leads.csv"
    src.write_text(LEADS, encoding="utf-8")
    assert run("import", "leads", str(src)).exit_code == 0
    changed = tmp_path / "changed.csv"
    # same people, found by email (case and spacing differ) and by phone (+86, spaces); Anna's score changed
    changed.write_text("name,email,phone,score\nAnna Berg,ANNA@bavaria.example ,,99\n张伟,,+86 13800138000,40\n"
                       "Tom Li,tom@ningbo.example,,\n", encoding="utf-8")
    result = run("import", "leads", str(changed), "--on-duplicate", "error")
    assert result.exit_code == 1
    assert "row 2: duplicate of lead" in result.stderr and "row 3: duplicate of lead" in result.stderr
    result = run("import", "leads", str(changed), "--on-duplicate", "skip", "--format", "json")
    assert json.loads(result.stdout)["duplicates"] == 3 and json.loads(result.stdout)["updated"] == 0
    before = commits(book)
    result = run("import", "leads", str(changed), "--on-duplicate", "update", "--format", "json")
    # Tom's row holds nothing new, so only Anna and Zhang are written
    assert json.loads(result.stdout) == {"read": 3, "created": 0, "updated": 2, "duplicates": 3, "rejected": 0}
    assert commits(book) == before + 1
    leads = {yaml.safe_load(t)["name"]: yaml.safe_load(t) for t in files(book, "leads").values()}
    assert leads["Anna Berg"]["score"] == 99 and leads["Anna Berg"]["company"] == "Bavaria Gears GmbH"  # other fields kept
    assert leads["张伟"]["phone"] == "+86 13800138000" and leads["张伟"]["score"] == 40


def test_all_or_nothing_lists_every_bad_row_and_writes_nothing(run: Run, book: Path, tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("name,email,score,owner\nGood,g@x.cn,1,rex\n,n@x.cn,2,\nBad,not-an-email,x,nobody\n", encoding="utf-8")
    before = commits(book)
    result = run("import", "leads", str(src))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert f"{src}: row 3, column name: name is required" in lines
    assert f"{src}: row 4, column score: score: 'x' is not a whole number" in lines
    assert f"{src}: row 4, column owner: owner: no user 'nobody'; import the users first or fix the name" in lines
    assert lines[-1].startswith("error: 2 of 3 rows in") and "nothing was imported" in lines[-1]
    assert files(book, "leads") == {} and files(book, "imports") == {}
    assert commits(book) == before


def test_skip_invalid_imports_the_rest_and_writes_rejected_csv(run: Run, book: Path, tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("name,email,score\nGood,g@x.cn,1\n,n@x.cn,2\nBad,b@x.cn,x\n", encoding="utf-8")
    result = run("import", "leads", str(src), "--skip-invalid", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"read": 3, "created": 1, "updated": 0, "duplicates": 0, "rejected": 2}
    rejected = (tmp_path / "bad.rejected.csv").read_text(encoding="utf-8").splitlines()
    assert rejected == ["name,email,score,row,reason", ",n@x.cn,2,3,name is required",
                        "Bad,b@x.cn,x,4,score: 'x' is not a whole number"]
    (record,) = [yaml.safe_load(t) for t in files(book, "imports").values()]
    assert record["counts"]["rejected"] == 2 and record["rejected_file"] == str(tmp_path / "bad.rejected.csv")
    # the fixed rejected file imports as it is (row and reason columns are ignored)
    (tmp_path / "fixed.csv").write_text("name,email,score,row,reason\nNoName,n@x.cn,2,3,x\nBad,b@x.cn,5,4,y\n", encoding="utf-8")
    result = run("import", "leads", str(tmp_path / "fixed.csv"), "--format", "json")
    assert json.loads(result.stdout)["created"] == 2


def test_dry_run_writes_nothing(run: Run, book: Path, tmp_path: Path) -> None:
    src = tmp_path / "leads.csv"
    src.write_text(LEADS, encoding="utf-8")
    before = commits(book)
    result = run("import", "leads", str(src), "--dry-run", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["created"] == 3
    assert "dry run: would create 3" in result.stderr
    assert files(book, "leads") == {} and commits(book) == before


def test_gb18030_file_with_a_mapping_and_stdin_json(run: Run, book: Path, tmp_path: Path) -> None:
    src = tmp_path / "客户.csv"
    src.write_bytes("客户名称;行业;上级\r\n上海汽车集团;汽车;\r\n上汽动力;汽车;上海汽车集团\r\n".encode("gb18030"))
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  客户名称: name\n  行业: industry\n  上级: {field: parent, ref: accounts, by: name}\n"
                       "constants: {tier: B}\n", encoding="utf-8")
    result = run("import", "accounts", str(src), "--mapping", str(mapping), "--format", "json")
    assert result.exit_code == 0, result.output
    accounts = {yaml.safe_load(t)["name"]: (n[:-5], yaml.safe_load(t)) for n, t in files(book, "accounts").items()}
    parent_id = accounts["上海汽车集团"][0]
    assert accounts["上汽动力"][1]["parent"] == parent_id and accounts["上汽动力"][1]["tier"] == "B"
    data = json.dumps([{"name": "Wu Fan", "account": "acme", "email": "wu@acme.example"}])
    result = run("import", "contacts", "-", "--input-format", "json", input=data)
    assert result.exit_code == 0, result.output
    (contact,) = [yaml.safe_load(t) for t in files(book, "contacts").values()]
    assert contact["account"] == "acme"
    assert any(yaml.safe_load(t)["file"] == "stdin" for t in files(book, "imports").values())


def test_unknown_column_in_mapping_is_one_clear_error(run: Run, book: Path, tmp_path: Path) -> None:
    src = tmp_path / "leads.csv"
    src.write_text(LEADS, encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  Full Name: name\n", encoding="utf-8")
    result = run("import", "leads", str(src), "--mapping", str(mapping))
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"error: {mapping}: column 'Full Name' is not in {src} "
                                     "(its columns: name, company, email, phone, source, score)")
    (tmp_path / "x.csv").write_text("name,colour\nA,red\n", encoding="utf-8")
    result = run("import", "leads", str(tmp_path / "x.csv"))
    assert result.exit_code == 1 and "column 'colour' is not a field of leads" in result.stderr


def test_salesforce_preset(run: Run, book: Path, tmp_path: Path) -> None:
    src = tmp_path / "sf.csv"
    src.write_text('"Lead ID","First Name","Last Name","Company","Email","Lead Source","Lead Status","Lead Owner"\n'
                   '"00Q1","Mei","Chen","Hangzhou Hydraulics","mei@hh.example","Partner Referral",'
                   '"Working - Contacted","Rex Rep"\n'
                   '"00Q2","Bo","Wang","Saigon Auto","bo@sa.example","Seminar - Partner","Open - Not Contacted","Someone Else"\n',
                   encoding="utf-8")
    result = run("import", "leads", str(src), "--preset", "salesforce")
    assert result.exit_code == 0, result.output
    leads = sorted((yaml.safe_load(t) for t in files(book, "leads").values()), key=lambda d: d["ext_id"])
    assert [(d["name"], d["source"], d["status"], d.get("owner")) for d in leads] == [
        ("Mei Chen", "partner", "working", "rex"), ("Bo Wang", "other", "new", None)]


def test_import_command_factory_mounts_as_lead_import(book: Path, tmp_path: Path) -> None:
    from crmctl.cli import cli
    from crmctl.cli.base import App
    from crmctl.cli.import_ import import_command

    group = click.Group("lead", commands={"import": import_command("lead")})
    src = tmp_path / "leads.csv"
    src.write_text(LEADS, encoding="utf-8")
    result = CliRunner().invoke(group, ["import", str(src)], obj=App(str(book), None, False, False))
    assert result.exit_code == 0, result.output
    assert len(files(book, "leads")) == 3
    assert "same as `crmctl import leads`" in (group.commands["import"].help or "")
    assert invoke("import", "--help").exit_code == 0 and cli is not None


def test_accounts_whose_parent_row_is_rejected_are_rejected_too(run: Run, book: Path, tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_text("name,tier,parent\nGroup Co,Z,\nDaughter Co,A,Group Co\nOther Co,B,\n", encoding="utf-8")
    result = run("import", "accounts", str(src), "--skip-invalid", "--format", "json")
    assert json.loads(result.stdout)["created"] == 1
    reasons = (tmp_path / "a.rejected.csv").read_text(encoding="utf-8")
    assert "tier: 'Z' is not one of A, B, C" in reasons and "parent: the row it refers to was rejected" in reasons


def test_stdin_tab_delimited_with_options(run: Run, book: Path) -> None:
    data = "name\tcompany\tscore\nLi Lei\tACME\t7\n"
    result = run("import", "leads", "-", "--delimiter", "tab", "--input-format", "csv", "--format", "json", input=data)
    assert result.exit_code == 0, result.output
    (lead,) = [yaml.safe_load(t) for t in files(book, "leads").values()]
    assert (lead["name"], lead["company"], lead["score"]) == ("Li Lei", "ACME", 7)


def test_hostile_file_is_one_error_line_and_writes_nothing(run: Run, book: Path, tmp_path: Path) -> None:
    src = tmp_path / "wide.csv"
    src.write_bytes(b"name,company\n" + b"x," * 200_000 + b"\n")
    result = run("import", "leads", str(src))
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"error: {src}: row 2: 200001 columns; at most 500 are accepted "
                                     "(a wrong --delimiter or a damaged file?)")
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes("name\n张伟\n".encode() + "李娜\n".encode("gbk"))
    result = run("import", "leads", str(mixed))
    assert result.exit_code == 1 and "line 3, byte 12: not UTF-8" in result.stderr
    assert files(book, "leads") == {} and files(book, "imports") == {}


def test_a_mapped_id_column_is_never_an_unknown_field_on_a_bad_row(run: Run, book: Path, tmp_path: Path) -> None:
    # before: a row with a bad price also said "unknown field 'id'" for the mapped sku column
    src = tmp_path / "products.csv"
    src.write_text("sku,name,price\nwasher,Washer,abc\nBad Id!,Bolt,abc\nnut,Nut,1.00\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  sku: id\n  name: name\n  price: prices.CNY\n", encoding="utf-8")
    r = run("import", "products", str(src), "--mapping", str(mapping))
    assert r.exit_code == 1
    assert "unknown field 'id'" not in r.stderr
    assert f"{src}: row 2, column price:" in r.stderr and "'abc' is not a number" in r.stderr
    assert f"{src}: row 3, column sku: 'bad id!' is not a valid id" in r.stderr  # the id's own problem, once


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    ("name,email\nLi,li@example.com\n".encode("utf-16-le"), "NUL byte (UTF-16 without a byte order mark?)"),
])
def test_a_file_that_cannot_be_read_is_named(run: Run, tmp_path: Path, content: bytes, message: str) -> None:
    # before: "error: the file is empty ..." and "error: line 1: NUL byte ..." did not say which file
    src = tmp_path / "leads.csv"
    src.write_bytes(content)
    r = run("import", "leads", str(src))
    assert r.exit_code == 1
    assert err_line(r).startswith(f"error: {src}: ") and message in err_line(r)


def test_an_oversized_or_empty_mapping_is_named_as_a_mapping_file(run: Run, book: Path, tmp_path: Path) -> None:
    # attack 7, F8: "mapping /dev/zero:1: file is 1048577 bytes; records are limited to 1048576 bytes", and an empty
    # mapping got "empty file; a record is a YAML mapping"
    csv = tmp_path / "leads.csv"
    csv.write_text(LEADS, encoding="utf-8")
    r = run("import", "leads", str(csv), "--mapping", "/dev/zero", "--dry-run")
    assert r.exit_code == 1 and err_line(r) == ("error: mapping /dev/zero:1: file is over 1 MiB; a mapping file is "
                                                "limited to 1 MiB (1,048,576 bytes)"), r.output
    empty = tmp_path / "m.yaml"
    empty.write_text("")
    r = run("import", "leads", str(csv), "--mapping", str(empty), "--dry-run")
    assert r.exit_code == 1 and err_line(r) == f"error: mapping {empty}:1: empty file; a mapping file is a YAML mapping"


def _import_records(book: Path) -> list[dict[str, object]]:
    return [yaml.safe_load(t) for t in files(book, "imports").values()]


def test_the_import_record_says_which_mapping_it_was_also_through_a_pipe_or_stdin(run: Run, book: Path,
                                                                                  tmp_path: Path) -> None:
    # attack 7, F10: `--mapping <(cat m.yaml)` kept `mapping: /dev/fd/63`, which means nothing once the shell exits;
    # `--mapping -` failed with "mapping -:1: cannot read: No such file or directory"
    import hashlib

    text = b"columns:\n  name: name\n  company: company\n  email: email\n"
    digest = hashlib.sha256(text).hexdigest()
    src = tmp_path / "leads.csv"
    src.write_text(LEADS, encoding="utf-8")
    plain = tmp_path / "m.yaml"
    plain.write_bytes(text)
    assert run("import", "leads", str(src), "--mapping", str(plain)).exit_code == 0
    (first,) = _import_records(book)
    assert (first["mapping"], first["mapping_sha256"]) == (str(plain), digest)
    (tmp_path / "more.csv").write_text("name,company,email\nAnna Bergh,Bergh AB,anna@bergh.example\n", encoding="utf-8")
    with fed_pipe(tmp_path / "fd63", text) as pipe:  # what bash's <(...) gives: a pipe that is gone when read
        piped = run("import", "leads", str(tmp_path / "more.csv"), "--mapping", str(pipe))
    assert piped.exit_code == 0, piped.output
    (second,) = [r for r in _import_records(book) if r != first]
    assert (second["mapping"], second["mapping_sha256"]) == (f"{pipe} (a pipe)", digest)
    # stdin: the mapping when FILE is a file; refused in one line when FILE is stdin too
    stdin = run("import", "leads", str(src), "--mapping", "-", "--dry-run", input=text.decode())
    assert stdin.exit_code == 0 and "would create 0 and update 0 leads" in stdin.stderr, stdin.output
    both = run("import", "leads", "-", "--mapping", "-", "--dry-run", input=LEADS)
    assert both.exit_code == 1 and both.stderr == ("error: --mapping -: stdin is already FILE (the rows); give the "
                                                   "mapping as a file (--mapping m.yaml, or --mapping <(...))\n")
    (tmp_path / "other.csv").write_text("name,company,email\nTom Lu,Lu Ltd,tom@lu.example\n", encoding="utf-8")
    assert run("import", "leads", str(tmp_path / "other.csv"), "--mapping", "-", input=text.decode()).exit_code == 0
    (third,) = [r for r in _import_records(book) if r not in (first, second)]
    assert (third["mapping"], third["mapping_sha256"]) == ("stdin", digest)

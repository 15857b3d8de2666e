"""Nothing outside the book is reachable: symlinks, ids, document numbers, oversized rows, runaway templates."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from crmctl.core.book import Book
from tests.conftest import git, invoke

SENT = "2ndtpvn1c44n"  # the demo's sent quote QT-2026-0002


@pytest.mark.parametrize("bad", ["evil\n", "con", "nul", "aux", "prn", "com1", "lpt9", "../x"])
def test_ids_are_matched_whole_and_windows_names_refused(book: Path, bad: str) -> None:
    r = invoke("account", "add", "--id", bad, "--name", "Evil", book=book)
    assert r.exit_code == 1 and r.stderr.startswith("error: invalid account id"), r.output
    assert git(book, "status", "--porcelain") == ""


def test_a_symlinked_records_folder_is_refused_for_writes_and_reads(book: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    contacts = book / "records" / "contacts"
    for item in contacts.iterdir():
        item.unlink()
    contacts.rmdir()
    contacts.symlink_to(outside)
    r = invoke("contact", "add", "--name", "Eve", "--account", "acme", book=book)
    assert r.exit_code == 1 and "records/contacts: is a symbolic link" in r.stderr, r.output
    assert list(outside.iterdir()) == []
    r = invoke("check", book=book)
    assert r.exit_code == 1 and "records/contacts: is a symbolic link" in r.stdout


def _replace_folder(folder: Path, kind: str, outside: Path) -> None:
    for item in folder.iterdir():
        item.unlink()
    folder.rmdir()
    if kind == "file":
        folder.write_text("x\n")
    elif kind == "fifo":
        os.mkfifo(folder)
    else:
        outside.mkdir()
        folder.symlink_to(outside)


@pytest.mark.parametrize("kind", ["file", "fifo", "symlink"])
def test_a_type_folder_that_is_not_a_folder_is_named_on_every_read_and_write(book: Path, tmp_path: Path,
                                                                               kind: str) -> None:
    # attack 7, F7: a plain file at records/contacts gave 0 contacts and no word (a symlink there was named); and
    # the read model, once it had stored an empty folder, took a symlink (or a file) there for the same empty folder
    assert invoke("contact", "add", "--name", "Eve", "--account", "acme", book=book).exit_code == 0
    folder = book / "records" / "contacts"
    said = f"records/contacts: is {'a symbolic link' if kind == 'symlink' else 'not a folder'}; " \
           "records must be plain folders inside the book"
    for item in folder.iterdir():
        item.unlink()
    for model in ("on", "off"):  # the read model and the JSON caches have seen the folder empty
        assert invoke("sql", "SELECT count(*) FROM contacts", book=book, env={"CRMCTL_READ_MODEL": model}).exit_code == 0
        assert invoke("contact", "list", book=book, env={"CRMCTL_READ_MODEL": model}).exit_code == 0
    _replace_folder(folder, kind, tmp_path / "outside")
    for model in ("on", "off"):
        env = {"CRMCTL_READ_MODEL": model}
        for argv in (["sql", "SELECT count(*) FROM contacts"], ["contact", "list"], ["account", "show", "acme"]):
            r = invoke(*argv, book=book, env=env)
            assert r.exit_code == 0 and f"warning: records/contacts:1: {said} (skipped)" in r.stderr, (argv, r.output)
        r = invoke("check", book=book, env=env)
        assert r.exit_code == 1 and f"records/contacts:1: {said}" in r.stdout, r.output
    r = invoke("contact", "add", "--name", "Eve", "--account", "acme", book=book)
    assert r.exit_code == 1 and r.stderr == f"error: {said}\n", r.output
    assert git(book, "status", "--porcelain", "--", "records/accounts") == ""


def test_a_file_committed_where_a_type_folder_was_is_named_as_of_that_day(book: Path) -> None:
    # attack 7, F7 in a commit: ls-tree lists records/contacts as a blob, and --as-of read 0 contacts with no word
    assert invoke("contact", "add", "--name", "Eve", "--account", "acme", book=book).exit_code == 0
    git(book, "rm", "-rq", "records/contacts")
    (book / "records" / "contacts").write_text("x\n")
    git(book, "add", "records/contacts")
    git(book, "commit", "--no-verify", "-qm", "a file where the folder was")  # check refuses it
    # a day after the commit in any zone, and before "now": the book as of that day is that commit
    import datetime as dt

    day = dt.datetime.fromisoformat(git(book, "log", "-1", "--format=%cI").strip()).astimezone(dt.UTC).date() \
        + dt.timedelta(days=1)
    r = invoke("contact", "list", "--as-of", day.isoformat(), book=book,
               env={"CRMCTL_NOW": f"{day + dt.timedelta(days=3)}T10:00:00+00:00"})
    sha = git(book, "rev-parse", "--short=10", "HEAD").strip()
    assert f"records/contacts@{sha}: is not a folder; records must be plain folders inside the book" in r.stderr, r.output


def test_a_symlinked_record_file_is_named_not_an_internal_error(book: Path) -> None:
    (book / "records" / "accounts" / "passwd.yaml").symlink_to("/etc/passwd")
    r = invoke("check", book=book)
    assert r.exit_code == 1 and "records/accounts/passwd.yaml: is a symbolic link" in r.stdout
    r = invoke("account", "show", "passwd", book=book)
    assert r.exit_code == 1 and "internal error" not in r.output and "root:" not in r.output


@pytest.mark.parametrize("kind", ["fifo", "folder"])
@pytest.mark.parametrize("argv", [["check"], ["account", "list"], ["sql", "SELECT count(*) FROM accounts"],
                                  ["report", "customers"]])
def test_a_named_pipe_or_folder_where_a_record_should_be_is_named_not_waited_on(book: Path, crmctl_bin: str,
                                                                                 kind: str, argv: list[str]) -> None:
    # before: every command that read the folder opened the pipe and waited for a writer, forever
    import subprocess

    odd = book / "records" / "accounts" / "odd.yaml"
    os.mkfifo(odd) if kind == "fifo" else odd.mkdir()
    r = subprocess.run([crmctl_bin, "--book", str(book), *argv], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    said = r.stdout + r.stderr
    assert "records/accounts/odd.yaml: is not a plain file; records are plain YAML files" in said, said
    assert "Traceback" not in said
    assert r.returncode == (1 if argv == ["check"] else 0), said
    if argv[0] == "account":
        assert "ACME Industries" in r.stdout  # the other records are read


def test_writing_over_a_symlinked_record_is_refused(book: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.yaml"
    acme = book / "records" / "accounts" / "acme.yaml"
    target.write_text(acme.read_text())
    b = Book(str(book))
    acme.unlink()
    acme.symlink_to(target)
    before = target.read_text()
    with pytest.raises(Exception, match="records/accounts/acme.yaml: is a symbolic link"):
        with b.transaction("edit") as tx:
            tx.put("accounts", "acme", {"name": "ACME", "tier": "C"})
    assert target.read_text() == before


def _render(book: Path, template: str, out: Path) -> object:
    return invoke("quote", "render", SENT, "--template", template, "--html", "--out", str(out), book=book)


def test_a_symlinked_template_is_refused(demo_copy: Path, tmp_path: Path) -> None:
    (demo_copy / "templates" / "secret.html").symlink_to("/etc/passwd")
    (demo_copy / "templates" / "evil.html").write_text("<html>{% include 'secret.html' %}</html>")
    r = _render(demo_copy, "evil.html", tmp_path / "e.html")
    assert r.exit_code == 1 and "secret.html is a symbolic link" in r.stderr, r.output
    assert not (tmp_path / "e.html").exists()


def test_a_symlinked_templates_folder_is_refused(demo_copy: Path, tmp_path: Path) -> None:
    real = tmp_path / "real-templates"
    os.rename(demo_copy / "templates", real)
    (demo_copy / "templates").symlink_to(real)
    r = _render(demo_copy, "quote.html", tmp_path / "q.html")
    assert r.exit_code == 1 and "templates: is a symbolic link" in r.stderr, r.output


def test_a_runaway_template_is_stopped_after_the_time_limit(demo_copy: Path, tmp_path: Path) -> None:
    text = (demo_copy / "crm.yaml").read_text()
    (demo_copy / "crm.yaml").write_text(text + "\nlimits:\n  render_seconds: 1\n" if "\nlimits:" not in text
                                        else text.replace("\nlimits:\n", "\nlimits:\n  render_seconds: 1\n", 1))
    (demo_copy / "templates" / "slow.html").write_text(
        "{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}")
    started = time.monotonic()
    r = _render(demo_copy, "slow.html", tmp_path / "s.html")
    assert time.monotonic() - started < 20
    assert r.exit_code == 1 and "took more than 1 s (limits.render_seconds in crm.yaml)" in r.stderr, r.output


@pytest.mark.parametrize("number", ["../../x", "/tmp/owned", "QT 2026", "..", "QT-2026-0002\n"])
def test_a_document_number_that_is_a_path_is_named_and_never_written(demo_copy: Path, number: str) -> None:
    path = demo_copy / "records" / "quotes" / f"{SENT}.yaml"
    path.write_text(path.read_text().replace("number: QT-2026-0002", f"number: {number!r}".replace("'", '"')))
    r = invoke("check", book=demo_copy)
    assert r.exit_code == 1 and "is not a document number" in r.stdout, r.stdout
    r = invoke("quote", "render", SENT, "--html", book=demo_copy)
    assert r.exit_code == 1 and "is not a document number" in r.stderr, r.output
    assert not (demo_copy / "x.html").exists() and not Path("/tmp/owned-v1.html").exists()


def test_a_committed_symlink_for_the_output_folder_is_refused(demo_copy: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (demo_copy / "out").symlink_to(home)
    r = invoke("quote", "render", SENT, "--html", book=demo_copy)
    assert r.exit_code == 1 and "is a symbolic link" in r.stderr, r.output
    assert list(home.iterdir()) == []


def test_an_import_row_too_big_for_a_record_is_rejected(book: Path, tmp_path: Path) -> None:
    big = "x" * 900_000  # two 900 KB cells: a 1.8 MB record every reader would refuse
    csv = tmp_path / "leads.csv"
    csv.write_text(f"name,company,notes,industry\nOK Lead,Fine Co,,\nHuge Lead,Big Co,{big},{big}\n", encoding="utf-8")
    r = invoke("import", "leads", str(csv), book=book)
    assert r.exit_code == 1
    assert "row 3: the record would be 1800100 bytes; records are limited to 1048576 bytes" in r.stderr
    r = invoke("import", "leads", str(csv), "--skip-invalid", book=book)
    assert r.exit_code == 0, r.output[-300:]
    assert [rec.get("name") for rec in Book(str(book)).records("leads").values()] == ["OK Lead"]
    assert all(p.stat().st_size < 1024 * 1024 for p in (book / "records" / "leads").glob("*.yaml"))


def test_git_setup_never_writes_through_a_symlinked_gitattributes(book: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (book / ".gitattributes").unlink()
    (book / ".gitattributes").symlink_to(victim)
    r = invoke("git", "setup", "--book", str(book))
    assert r.exit_code == 1 and ".gitattributes: is a symbolic link" in r.stderr, r.output
    assert victim.read_text() == "precious\n"


def test_a_runaway_template_is_stopped_even_where_no_signal_can_be_used(demo_copy: Path) -> None:
    # a render in another thread gets no SIGALRM: the output guard alone must stop it, within the limit
    import threading

    from crmctl.core.errors import CrmError
    from crmctl.io.render import render_html

    text = (demo_copy / "crm.yaml").read_text()
    (demo_copy / "crm.yaml").write_text(text + "\nlimits:\n  render_seconds: 1\n" if "\nlimits:" not in text
                                        else text.replace("\nlimits:\n", "\nlimits:\n  render_seconds: 1\n", 1))
    (demo_copy / "templates" / "slow.html").write_text(
        "{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}")
    outcome: list[BaseException] = []

    def render() -> None:
        try:
            render_html(str(demo_copy), "slow.html", {})
        except CrmError as exc:
            outcome.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=render)
    worker.start()
    worker.join(60)
    assert not worker.is_alive() and time.monotonic() - started < 20
    assert outcome and "took more than 1 s" in str(outcome[0])


def test_an_oversized_record_is_named_with_its_real_size(book: Path) -> None:
    # attack 7, F8: check said "file is 1048577 bytes" (what it read) for a file of 3,000,016
    (book / "records" / "accounts" / "huge.yaml").write_text("name: x\nnotes: " + "a" * 3_000_000 + "\n")
    for env in ({}, {"CRMCTL_READ_MODEL": "off"}):
        r = invoke("check", book=book, env=env)   # 8 + 7 + 3,000,000 + 1 = 3,000,016 bytes
        assert "records/accounts/huge.yaml:1: file is 3,000,016 bytes; a record is limited to 1 MiB (1,048,576 bytes)" \
            in r.stdout, r.output
    r = invoke("sql", "SELECT count(*) FROM accounts", book=book)
    assert "file is 3,000,016 bytes" in r.stderr, r.output

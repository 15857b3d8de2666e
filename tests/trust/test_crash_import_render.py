"""SIGKILL in the middle of a batch import and of a quote render; sandbox escapes; loader fuzzing.

The counts each test ran are printed (pytest -s shows them) and asserted.
"""
from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmctl.core import yamlio
from crmctl.core.book import Book
from crmctl.core.errors import LoadError
from tests.conftest import invoke
from tests.trust.kill import kill_after

PY = sys.executable
IMPORT_KILLS = 12
RENDER_KILLS = 6


def test_sigkill_during_imports_leaves_every_record_whole(book: Path, tmp_path: Path) -> None:
    rnd = random.Random(7)
    kills = 0
    duration = 0.0
    for round_ in range(IMPORT_KILLS):
        rows = ["name,company,email,phone"] + [f"线索 {round_}-{i},公司 {i},l{round_}.{i}@example.com,+86 138 {round_:04d} {i:04d}"
                                               for i in range(400)]
        csv = tmp_path / f"leads-{round_}.csv"
        csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
        cmd = [PY, "-m", "crmctl", "--book", str(book), "import", "leads", str(csv)]
        if not duration:  # the first import runs to the end: it says how long one takes here
            started = time.monotonic()
            subprocess.run(cmd, check=True, capture_output=True)
            duration = time.monotonic() - started
            continue
        kills += kill_after(cmd, rnd.uniform(0.1, 0.8) * duration)
        loaded = Book(str(book))
        leads = loaded.records("leads")
        assert loaded.problems == []
        assert all(rec.get("name", "").startswith("线索") for rec in leads.values())
        r = invoke("check", book=book)
        assert r.exit_code == 0, r.output
    assert kills >= (IMPORT_KILLS - 1) // 2
    print(f"\n{kills} SIGKILLs during {IMPORT_KILLS} imports; every record whole, check clean")
    # an interrupted import is finished by running it again, and a re-run after that changes nothing
    last = tmp_path / f"leads-{IMPORT_KILLS - 1}.csv"
    assert invoke("import", "leads", str(last), book=book).exit_code == 0
    again = invoke("import", "leads", str(last), book=book)
    assert again.exit_code == 0 and "nothing to import" in again.stderr


def test_sigkill_during_render_never_leaves_half_a_pdf(demo_copy: Path, tmp_path: Path) -> None:
    quote = Book(str(demo_copy)).all("quotes")[0].id
    out = tmp_path / "quote.pdf"
    cmd = [PY, "-m", "crmctl", "--book", str(demo_copy), "quote", "render", quote, "--out", str(out)]
    started = time.monotonic()
    subprocess.run(cmd, check=True, capture_output=True)
    duration = time.monotonic() - started  # kill within a render, however fast this machine is
    rnd = random.Random(11)
    kills = 0
    for _ in range(RENDER_KILLS):
        kills += kill_after(cmd, rnd.uniform(0.1, 0.8) * duration)
        # the earlier PDF or a complete new one, never half of one
        data = out.read_bytes()
        assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    assert kills >= RENDER_KILLS // 2
    print(f"\n{kills} SIGKILLs during {RENDER_KILLS} renders; the PDF on disk was always a whole one")


@pytest.mark.parametrize("payload", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ self._TemplateReference__context }}",
])
def test_template_sandbox_escapes_are_refused(demo_copy: Path, tmp_path: Path, payload: str) -> None:
    (demo_copy / "templates" / "evil.html").write_text(f"<html><body>{payload}</body></html>", encoding="utf-8")
    quote = Book(str(demo_copy)).all("quotes")[0].id
    r = invoke("quote", "render", quote, "--template", "evil.html", "--html", "--out", str(tmp_path / "e.html"), book=demo_copy)
    assert r.exit_code == 1, r.output
    assert r.stderr.strip().startswith("error: ") and "Traceback" not in r.output
    assert not (tmp_path / "e.html").exists() or "uid=" not in (tmp_path / "e.html").read_text()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_the_record_loader_only_ever_says_load_error(text: str) -> None:
    try:
        data, lines = yamlio.loads(text, "fuzz.yaml")
    except LoadError as exc:
        assert str(exc).startswith("fuzz.yaml:")
        return
    assert isinstance(data, dict) and set(lines) <= {str(k) for k in data}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_the_byte_decoder_only_ever_says_load_error(raw: bytes) -> None:
    try:
        yamlio.loads(yamlio.decode(raw, "fuzz.yaml"), "fuzz.yaml")
    except LoadError:
        pass

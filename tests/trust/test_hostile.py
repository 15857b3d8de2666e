"""Hostile files inside a book: each gets a clear error or safe output — never a hang, crash or lost data."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import invoke

BOMB = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 9) + "]\n" for i in range(1, 12))

HOSTILE: dict[str, bytes] = {
    "python-tag": b"name: !!python/object/apply:os.system ['touch /tmp/crmctl-pwned']\n",
    "python-name": b"name: !!python/name:os.system\n",
    "bomb": BOMB.encode(),
    "deep": b"name: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "deep-block": "".join(" " * (2 * i) + f"k{i}:\n" for i in range(300)).encode() + b" " * 600 + b"v: 1\n",
    "latin1": "name: Café Müller\n".encode("latin-1"),
    "nul": b"name: ok\x00\n",
    "list": b"- a\n- b\n",
    "scalar": b"just text\n",
    "dupkey": b"name: a\nname: b\n",
    "merge-key": b"base: &b {tier: A}\nname: x\n<<: *b\n",
    "multi-doc": b"name: a\n---\nname: b\n",
}


@pytest.fixture
def hostile_book(book: Path) -> Path:
    folder = book / "records" / "accounts"
    for name, raw in HOSTILE.items():
        (folder / f"{name}.yaml").write_bytes(raw)
    with open(folder / "huge.yaml", "wb") as handle:  # 100 MB
        handle.write(b"name: " + b"x" * (100 * 1024 * 1024) + b"\n")
    return book


def test_every_hostile_file_is_reported_and_the_rest_works(hostile_book: Path) -> None:
    start = time.monotonic()
    r = invoke("check", "--format", "json", book=hostile_book)
    elapsed = time.monotonic() - start
    assert r.exit_code == 1
    problems = {Path(p["path"]).stem: p for p in json.loads(r.stdout)}
    assert set(problems) == set(HOSTILE) | {"huge"}, problems.keys()
    assert "tags" in problems["python-tag"]["message"] and "tags" in problems["python-name"]["message"]
    assert "anchors" in problems["bomb"]["message"] and "nesting" in problems["deep"]["message"]
    assert "not UTF-8" in problems["latin1"]["message"] and "NUL" in problems["nul"]["message"]
    assert "limited to" in problems["huge"]["message"]
    assert "not a mapping" in problems["list"]["message"] and "duplicate key" in problems["dupkey"]["message"]
    assert elapsed < 60  # never a hang (a generous bound for a loaded machine)
    assert not Path("/tmp/crmctl-pwned").exists()
    listing = invoke("account", "list", "--format", "json", book=hostile_book)
    assert listing.exit_code == 0
    assert [row["id"] for row in json.loads(listing.stdout)] == ["acme", "baosteel"]
    assert "warning: records/accounts/bomb.yaml" in listing.stderr
    print(f"\n{len(HOSTILE) + 1} hostile record files: each reported with path:line, the book still usable")


def test_hostile_file_is_never_rewritten(hostile_book: Path) -> None:
    before = (hostile_book / "records/accounts/python-tag.yaml").read_bytes()
    r = invoke("account", "edit", "python-tag", "--tier", "A", book=hostile_book)
    # the file is named with its line (it was "no account 'python-tag'" before attack 17 #10)
    assert r.exit_code == 1 and r.stderr.startswith("error: records/accounts/python-tag.yaml:"), r.stderr
    assert (hostile_book / "records/accounts/python-tag.yaml").read_bytes() == before


def test_hostile_crm_yaml_is_one_clear_error(book: Path) -> None:
    (book / "crm.yaml").write_text("currency: !!python/object/apply:os.system ['true']\n")
    (book / ".crmctl" / "cache" / "settings.json").unlink(missing_ok=True)
    r = invoke("account", "list", book=book)
    assert r.exit_code == 1
    assert r.stderr.strip().startswith("error: crm.yaml:1: YAML tags")

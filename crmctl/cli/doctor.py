"""``crmctl doctor``: what the environment lacks, and how to fix it."""
from __future__ import annotations

import ctypes.util
import importlib.util
import shutil
import subprocess

import click

from crmctl.cli.base import emit_rows, output_option

APT = "apt-get install -y"


def _fonts_for_chinese() -> bool:
    if not shutil.which("fc-list"):
        return False
    out = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True).stdout
    return bool(out.strip())


def findings() -> list[dict[str, str]]:
    """One row per requirement: what, ok or missing, and the fix."""
    rows = []

    def add(what: str, ok: bool, fix: str, why: str) -> None:
        rows.append({"check": what, "status": "ok" if ok else "MISSING", "why": why, "fix": "" if ok else fix})

    add("git", shutil.which("git") is not None, f"{APT} git", "history, audit trail and sync")
    add("pango", ctypes.util.find_library("pango-1.0") is not None, f"{APT} libpango-1.0-0 libpangoft2-1.0-0",
        "WeasyPrint lays out PDFs with it")
    add("harfbuzz-subset", ctypes.util.find_library("harfbuzz-subset") is not None, f"{APT} libharfbuzz-subset0",
        "fast font subsetting (about 30x faster for CJK fonts)")
    add("CJK font", _fonts_for_chinese(), f"{APT} fonts-noto-cjk", "Chinese text in quote PDFs")
    for package in ("weasyprint", "babel", "jinja2"):
        # find, don't import: importing WeasyPrint alone costs over a second
        add(f"python: {package}", importlib.util.find_spec(package) is not None, f"pip install {package}",
            "rendering and locale formats")
    return rows


@click.command("doctor")
@output_option
def cli(fmt: str) -> None:
    """Say what the environment lacks (git, Pango, harfbuzz-subset, a CJK font) and how to fix it.

    Exits 1 when something is missing.
    """
    rows = findings()
    emit_rows(rows, fmt, ("check", "status", "why", "fix"))
    if any(r["status"] != "ok" for r in rows):
        raise SystemExit(1)

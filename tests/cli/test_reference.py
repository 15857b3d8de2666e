"""Every command has help text and appears in the README's command reference, and vice versa."""
from __future__ import annotations

import re

import click
from click.testing import CliRunner

from crmctl.cli import cli
from tests.conftest import REPO


def walk(group: click.Group, prefix: str = "crmctl") -> list[tuple[str, click.Command]]:
    ctx = click.Context(group)
    out = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        path = f"{prefix} {name}"
        out.append((path, command))
        if isinstance(command, click.Group):
            out.extend(walk(command, path))
    return out


def reference() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text[text.index("## Command reference"):]


def test_every_command_has_help() -> None:
    for path, command in walk(cli):
        assert (command.help or "").strip(), f"{path} has no help text"
        result = CliRunner().invoke(cli, [*path.split()[1:], "--help"])
        assert result.exit_code == 0, path
        assert "Usage:" in result.output


def test_every_command_is_in_the_readme() -> None:
    ref = reference()
    for path, command in walk(cli):
        if isinstance(command, click.Group):
            continue
        assert f"`{path}" in ref, f"{path} is missing from the README's command reference"


def test_every_documented_command_exists() -> None:
    known = {path for path, _ in walk(cli)}
    for match in re.finditer(r"`(crmctl(?: [a-z][a-z-]*)+)", reference()):
        words = match.group(1).split()
        # the longest prefix of lowercase words that is a command must be a leaf or a group
        candidates = [" ".join(words[:i]) for i in range(2, len(words) + 1)]
        assert any(c in known for c in candidates), f"README documents {match.group(1)!r}, which does not exist"

"""``crmctl init DIR``: make a new book."""
from __future__ import annotations

import os

import click

from crmctl.core import git
from crmctl.core.schemas import TYPES
from crmctl.core.settings import DEFAULTS_PATH

GITIGNORE = ".crmctl/\nout/\n"


@click.command("init")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--company", help="Company name to put in crm.yaml.")
@click.option("--currency", default="CNY", show_default=True, help="The book's currency.")
@click.option("--no-git", is_flag=True, help="Do not run git init.")
def cli(directory: str, company: str | None, currency: str, no_git: bool) -> None:
    """Make a new book in DIR: crm.yaml with commented defaults, record folders, .gitignore and git init."""
    from crmctl.core.errors import CrmError
    from crmctl.core.money import currency_code

    currency = currency_code(currency)
    settings_path = os.path.join(directory, "crm.yaml")
    if os.path.exists(settings_path):
        raise CrmError(f"{settings_path} already exists; this is a book already")
    os.makedirs(directory, exist_ok=True)
    with open(DEFAULTS_PATH, encoding="utf-8") as handle:
        text = handle.read()
    if company:
        text = text.replace('name: "My Company"', f"name: {_quote(company)}", 1)
    text = text.replace("currency: CNY ", f"currency: {currency} ", 1)
    _write(settings_path, text)
    for rtype in TYPES:
        folder = os.path.join(directory, "records", rtype)
        os.makedirs(folder, exist_ok=True)
        _write(os.path.join(folder, ".gitkeep"), "")
    os.makedirs(os.path.join(directory, "templates"), exist_ok=True)
    _write(os.path.join(directory, "templates", ".gitkeep"), "")
    _write(os.path.join(directory, ".gitignore"), GITIGNORE)
    if not no_git and git.available():
        outer = git.toplevel(directory)
        if outer is None or os.path.realpath(outer) != os.path.realpath(directory):
            # a book is its own repository, also inside another one (a clone of crmctl, a project):
            # its commits must not land in the outer repository
            git.run(directory, "init", "--quiet")
            if outer is not None:
                click.echo(f"note: {directory} is inside the git repository {outer}; the book has its own repository, "
                           f"which {outer} shows as an untracked folder (add {os.path.relpath(directory, outer)}/ to "
                           "its .gitignore, or make the book elsewhere)", err=True)
        _setup_git(directory)
        git.commit(directory, ["."], "crmctl init", None)
    click.echo(f"made a new book in {directory}", err=True)


def _setup_git(directory: str) -> None:
    from crmctl.cli.gitcmd import install

    install(directory)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)

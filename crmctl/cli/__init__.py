"""The ``crmctl`` command line: a lazy group of nouns, one module per noun.

Only the module of the command being run is imported, and ``--help`` lists
commands from the table below without importing any of them, so start-up
stays near a bare Click program. This is also the one place where errors
become exit codes (:class:`crmctl.core.errors.ExitCode`): a :class:`CrmError`
is one line on stderr and exit 1; Ctrl-C is exit 130; any other exception is
a bug: its trace goes to ``.crmctl/last-error.log`` (or a temporary file when
there is no book), one line says where, and the exit code is 3.
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from crmctl import __version__
from crmctl.core.errors import ExitCode

# name -> (module, one-line help[, attribute; default "cli"]). A module that is not there yet is hidden.
COMMANDS: dict[str, tuple[str, ...]] = {
    "init": ("crmctl.cli.init", "Make a new book in DIR."),
    "check": ("crmctl.cli.check", "Validate the whole book (fit for a pre-commit hook)."),
    "log": ("crmctl.cli.log", "Show the git history of the book or of one record."),
    "diff": ("crmctl.cli.diff", "Records added, changed and removed between two dates (from git)."),
    "doctor": ("crmctl.cli.doctor", "Say what the environment lacks and how to fix it."),
    "git": ("crmctl.cli.gitcmd", "Git integration: merge driver and hooks."),
    "import": ("crmctl.cli.import_", "Import records from CSV, JSON or NDJSON."),
    "export": ("crmctl.cli.export", "Export records as CSV, JSON, NDJSON or YAML, or the book as SQLite."),
    "sql": ("crmctl.cli.sql", "Read-only SQL over the whole book (every type a table)."),
    "lead": ("crmctl.cli.lead", "Leads and the lead pool (L2C)."),
    "opp": ("crmctl.cli.opp", "Opportunities and pipeline stages (L2C)."),
    "order": ("crmctl.cli.order", "Orders (L2C)."),
    "payment": ("crmctl.cli.payment", "Payment plans and receipts, 回款 (L2C)."),
    "account": ("crmctl.cli.account", "Accounts and the 360° view (MCR)."),
    "contact": ("crmctl.cli.contact", "Contacts and the buying committee (MCR)."),
    "whois": ("crmctl.cli.whois", "Who already owns a lead, contact or account matching TEXT."),
    "user": ("crmctl.cli.user", "Users: the sales team."),
    "visit": ("crmctl.cli.visit", "Visit plans, check-ins, SOP steps and coaching (SFE)."),
    "product": ("crmctl.cli.product", "The product catalog (CPQ)."),
    "pricebook": ("crmctl.cli.pricebook", "Price books (CPQ)."),
    "price": ("crmctl.cli.price", "Price a product configuration step by step (CPQ)."),
    "quote": ("crmctl.cli.quote", "Quotes: lines, approvals, versions, PDFs (CPQ)."),
    "report": ("crmctl.cli.report", "Reports: pipeline, funnel, forecast, receivables, customers, sfe."),
    "watch": ("crmctl.cli.watch", "A watcher that tells commands which record files changed (big books)."),
}
_HERE = os.path.dirname(__file__)


def _module_exists(module: str) -> bool:
    # crmctl.cli.x -> cli/x.py, without importing it
    return os.path.exists(os.path.join(_HERE, *module.split(".")[2:]) + ".py")


class UserError(click.ClickException):
    """A :class:`CrmError` on its way out: one line, ``error: ...``, exit 1."""

    exit_code = ExitCode.USER_ERROR

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class InternalError(UserError):
    """A bug on its way out: one line that says where its trace is, exit 3."""

    exit_code = ExitCode.INTERNAL_ERROR


class Interrupted(UserError):
    """Ctrl-C: one line, exit 130."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self) -> None:
        super().__init__("interrupted (Ctrl-C)")


TRACE_FILE = os.path.join(".crmctl", "last-error.log")  # in the book; .crmctl/ is git-ignored


def internal_error(exc: BaseException, ctx: click.Context | None = None) -> InternalError:
    """The one line for an unexpected exception, after saving its trace (see :func:`save_trace`)."""
    reason = (str(exc).splitlines() or [""])[0]
    what = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
    path = save_trace(exc, _book_root(ctx))
    where = f"the trace is in {path}" if path else "the trace could not be saved"
    return InternalError(f"internal error ({what}): a bug in crmctl; {where}; rerun with --debug to see it")


def save_trace(exc: BaseException, book_root: str | None) -> str | None:
    """Write ``exc``'s traceback (with crmctl's version and the command line) for a bug report.

    To ``<book>/.crmctl/last-error.log`` when there is a book, else (or when that
    cannot be written) to a new ``crmctl-error-*.log`` in the temporary folder.
    Returns the file's path, or None when neither could be written.
    """
    import platform
    import tempfile
    import traceback

    text = (f"crmctl {__version__} on Python {platform.python_version()} ({sys.platform})\n"
            f"command: crmctl {' '.join(sys.argv[1:])}\n\n" + "".join(traceback.format_exception(exc)))
    if book_root:
        path = os.path.join(book_root, TRACE_FILE)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            return path
        except OSError:
            pass
    try:
        fd, path = tempfile.mkstemp(prefix="crmctl-error-", suffix=".log", text=True)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path
    except OSError:
        return None


def _book_root(ctx: click.Context | None) -> str | None:
    """The folder of the book the command runs on, when there is one (without loading anything)."""
    app = ctx.obj if ctx else None
    book = getattr(app, "_book", None)
    if book is not None:
        return str(book.root)
    option = getattr(app, "book_option", None) if app is not None else ctx.params.get("book") if ctx else None
    try:
        from crmctl.core.book import Book

        return Book.discover(option).root
    except Exception:  # noqa: BLE001 - no book, or a broken one: the trace goes to a temporary file
        return None


def checkpoint(point: str) -> None:
    """Let a test stop crmctl at a named point, deterministically (no sleeps).

    ``CRMCTL_TEST_AT=POINT:sigint`` sends this process a real SIGINT (a Ctrl-C);
    ``CRMCTL_TEST_AT=POINT:bug`` raises an exception crmctl does not expect.
    Points: ``command`` (the command is about to run). Unset, this costs one lookup.
    """
    wanted = os.environ.get("CRMCTL_TEST_AT")
    if not wanted or wanted.partition(":")[0] != point:
        return
    action = wanted.partition(":")[2]
    if action == "sigint":
        import signal

        # as in a terminal: a process started in the background of a non-interactive shell inherits SIGINT ignored
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.raise_signal(signal.SIGINT)
    elif action == "bug":
        raise RuntimeError(f"CRMCTL_TEST_AT={wanted}: a stand-in for a bug")


def _say_notes(ctx: click.Context) -> None:
    """What the book noted while the command ran (a merged id followed to its survivor): one line each on stderr."""
    book = getattr(ctx.obj, "_book", None)
    for note in getattr(book, "notes", ()):
        click.echo(f"note: {note}", err=True)


class LazyGroup(click.Group):
    """A group whose subcommands live in modules imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, ...]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*self.commands, *(n for n, spec in self.lazy.items() if _module_exists(spec[0]))])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name not in self.lazy or not _module_exists(self.lazy[cmd_name][0]):
            return None
        spec = self.lazy[cmd_name]
        module = importlib.import_module(spec[0])
        command: click.Command = getattr(module, spec[2] if len(spec) > 2 else "cli")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # short help from the table: listing commands imports none of them
        rows = [(n, self.lazy[n][1] if n in self.lazy else (self.commands[n].get_short_help_str())) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        from crmctl.core.errors import CrmError

        debug = bool(getattr(ctx.obj, "debug", False)) or "--debug" in sys.argv[1:]
        try:
            try:
                return click.Group.invoke(self, ctx)
            finally:
                _say_notes(ctx)
        except click.Abort as exc:
            if isinstance(exc.__context__, KeyboardInterrupt):  # Ctrl-C at a Click prompt
                raise Interrupted() from None
            raise
        except (click.ClickException, click.exceptions.Exit, SystemExit):
            raise
        except CrmError as exc:
            if debug:
                raise
            raise UserError(str(exc)) from None
        except BrokenPipeError:
            sys.stderr.close()  # the reader went away (| head); nothing more to say
            raise SystemExit(ExitCode.OK) from None
        except KeyboardInterrupt:
            raise Interrupted() from None
        except Exception as exc:  # noqa: BLE001 - the promise is: never a traceback unless --debug
            if debug:
                raise
            raise internal_error(exc, ctx) from None


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--book", "book", metavar="DIR", help="The book to use (default: $CRMCTL_BOOK, else the nearest crm.yaml upwards).")
@click.option("--as", "as_user", metavar="USER", help="Act as this user (id or email; default: $CRMCTL_USER, else git user.email).")
@click.option("--no-commit", is_flag=True, help="Write files but do not commit them to git.")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
@click.version_option(__version__, prog_name="crmctl")
@click.pass_context
def cli(ctx: click.Context, book: str | None, as_user: str | None, no_commit: bool, debug: bool) -> None:
    """crmctl — a sales CRM kept as YAML files in git.

    Leads to cash (L2C), customer relationships (MCR), sales force
    effectiveness (SFE) and configure-price-quote (CPQ), one record per file.
    """
    from crmctl.cli.base import App

    ctx.obj = App(book, as_user, no_commit, debug)
    checkpoint("command")


def main() -> None:
    """The console script.

    When the command is over, the process ends at once: every file is written,
    renamed into place and committed by then, and crmctl registers no exit
    handlers. Python's own teardown — freeing every object one by one — took
    0.4 s after a quote render (WeasyPrint's boxes and font handles) and 0.1 s
    after a report over 50,000 visits, time a user waits for nothing.
    """
    try:
        cli.main(prog_name="crmctl")
        code: Any = ExitCode.OK
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:  # noqa: BLE001 - only with --debug does an error get this far: show it all
        import traceback

        from crmctl.core.errors import CrmError

        traceback.print_exc()
        code = ExitCode.USER_ERROR if isinstance(exc, CrmError) else ExitCode.INTERNAL_ERROR
    status = code if isinstance(code, int) else ExitCode.OK if code is None else ExitCode.USER_ERROR
    if not isinstance(code, (int, type(None))):
        print(code, file=sys.stderr)  # what sys.exit("message") would have printed
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # the reader went away (| head), or the stream is closed
        pass
    os._exit(status)

"""Rendering documents: Jinja2 HTML in a sandbox, then WeasyPrint to PDF.

Templates come from the book's ``templates/`` first and crmctl's defaults
second, so a book overrides any default by name. Safety (DESIGN.md): the
Jinja2 environment is sandboxed with autoescaping, and WeasyPrint gets a
fetcher that serves only files under those template folders and ``data:``
URLs — no network, no other file. Jinja2, babel and WeasyPrint are imported
here, inside the functions that need them, never at start-up.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import mimetypes
import os
from decimal import Decimal
from typing import Any, Iterator

from crmctl.core.errors import CrmError
from crmctl.core.limits import read

PACKAGE_TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates")


def template_dirs(book_root: str | None) -> list[str]:
    """The folders templates and their assets may come from, book first; a symlinked ``templates/`` is refused."""
    dirs = []
    if book_root:
        folder = os.path.join(os.path.abspath(book_root), "templates")
        if os.path.islink(folder):
            raise CrmError(f"{folder}: is a symbolic link; templates must be plain files inside the book")
        if os.path.isdir(folder):
            dirs.append(os.path.realpath(folder))
    dirs.append(os.path.realpath(PACKAGE_TEMPLATES))
    return dirs


def inside(path: str, roots: list[str]) -> str | None:
    """``path`` when it is a regular file under one of ``roots`` reached through no symbolic link, else None."""
    plain = os.path.normpath(os.path.abspath(path))
    if os.path.realpath(plain) != plain or not os.path.isfile(plain):
        return None
    return plain if any(plain.startswith(root + os.sep) for root in roots) else None


def _loader(roots: list[str]) -> Any:
    """Jinja2's file loader, reading only regular files inside ``roots`` (a symlink is named and refused)."""
    from jinja2 import FileSystemLoader

    class Loader(FileSystemLoader):  # type: ignore[misc]
        def get_source(self, environment: Any, template: str) -> Any:
            source, filename, uptodate = super().get_source(environment, template)  # refuses `..` itself
            if inside(filename, roots) is None:
                raise CrmError(f"template {template!r}: {filename} is a symbolic link or leaves the template "
                               "folder; templates must be plain files inside it")
            return source, filename, uptodate

    return Loader(roots)


def babel_locale(lang: str) -> str:
    """A document language (``zh-CN``, ``en``) as a babel locale name."""
    return {"zh-CN": "zh_CN", "zh": "zh_CN", "en": "en_US"}.get(lang, lang.replace("-", "_"))


def format_money(amount: Any, currency: str, lang: str) -> str:
    from babel.numbers import format_currency

    from crmctl.core.money import minor_unit, to_decimal

    value = to_decimal(amount)
    digits = minor_unit(currency)
    pattern = None if digits == 2 else "¤#,##0" + ("." + "0" * digits if digits else "")
    return str(format_currency(value, currency, format=pattern, locale=babel_locale(lang), currency_digits=digits == 2))


def format_price(amount: Any, currency: str, lang: str) -> str:
    """A unit price: the currency's decimals, or more when the price has them (¥0.333 stays ¥0.333)."""
    from babel.numbers import format_currency

    from crmctl.core.money import minor_unit, to_decimal

    value = to_decimal(amount)
    digits = max(minor_unit(currency), -value.normalize().as_tuple().exponent if value else 0)
    if digits == minor_unit(currency):
        return format_money(value, currency, lang)
    pattern = "¤#,##0." + "0" * digits
    return str(format_currency(value, currency, format=pattern, locale=babel_locale(lang), currency_digits=False))


def format_date(value: Any, lang: str, style: str = "medium") -> str:
    from babel.dates import format_date as babel_date

    if value in (None, ""):
        return ""
    day = value if isinstance(value, _dt.date) else _dt.date.fromisoformat(str(value)[:10])
    return str(babel_date(day, format=style, locale=babel_locale(lang)))


def format_number(value: Any, lang: str) -> str:
    from babel.numbers import format_decimal

    return str(format_decimal(Decimal(str(value)), locale=babel_locale(lang)))


def environment(book_root: str | None, lang: str) -> Any:
    """A sandboxed, autoescaping Jinja2 environment over the template folders."""
    from jinja2 import StrictUndefined, select_autoescape
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    # HTML is escaped; a stylesheet included into <style> is CSS, which HTML escaping would break
    env = ImmutableSandboxedEnvironment(
        loader=_loader(template_dirs(book_root)),
        autoescape=select_autoescape(("html", "htm", "xml"), disabled_extensions=("css",), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["money"] = lambda amount, currency: format_money(amount, currency, lang)
    env.filters["price"] = lambda amount, currency: format_price(amount, currency, lang)
    env.filters["date"] = lambda value, style="medium": format_date(value, lang, style)
    env.filters["number"] = lambda value: format_number(value, lang)
    env.globals["lang"] = lang
    return env


def render_seconds(book_root: str | None) -> float:
    """How long a template may run: ``limits.render_seconds`` in crm.yaml (default 30)."""
    if not book_root:
        return 30.0
    from crmctl.core.book import SETTINGS_FILE
    from crmctl.core.settings import Settings

    settings = Settings.load(os.path.join(book_root, SETTINGS_FILE),
                             cache_path=os.path.join(book_root, ".crmctl", "cache", "settings.json"))
    return float(read(settings, "limits.render_seconds", 30))


class _OutOfTime(BaseException):
    """Raised by the timer; a BaseException so no ``except Exception`` inside a template or a filter swallows it."""


@contextlib.contextmanager
def time_limit(seconds: float, message: str) -> Iterator[None]:
    """End the block with ``CrmError(message)`` after ``seconds`` (main thread on POSIX; elsewhere no limit)."""
    import signal
    import threading

    if seconds <= 0 or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _stop(signum: int, frame: Any) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, _stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _OutOfTime:
        raise CrmError(message) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


MAX_OUTPUT_CHARS = 64 * 1024 * 1024  # a quote or report is kilobytes; 64 MB of HTML is a runaway loop


def _bounded(chunks: Iterator[str], seconds: float, template: str) -> str:
    """Join a template's output, stopping it past ``seconds`` or :data:`MAX_OUTPUT_CHARS`.

    The SIGALRM of :func:`time_limit` is the main guard; this one checks the clock as the
    output is produced, so a loop that writes is stopped even where no signal can be used
    (another thread, or a signal blocked by the host), and before it fills the memory.
    """
    import time

    deadline = time.monotonic() + seconds if seconds > 0 else None
    parts: list[str] = []
    size = 0
    for n, chunk in enumerate(chunks):
        parts.append(chunk)
        size += len(chunk)
        if n % 1024 == 1023:
            if deadline is not None and time.monotonic() > deadline:
                raise CrmError(f"template {template!r} took more than {seconds:g} s (limits.render_seconds in crm.yaml); "
                               "look for loops that run too long")
            if size > MAX_OUTPUT_CHARS:
                raise CrmError(f"template {template!r} wrote more than {MAX_OUTPUT_CHARS // 2**20} MB of HTML; "
                               "look for loops that run too long")
    return "".join(parts)


def render_html(book_root: str | None, template: str, context: dict[str, Any], lang: str = "en") -> str:
    """Fill ``template`` with ``context``; a missing template is a clear error."""
    from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import SecurityError

    env = environment(book_root, lang)
    limit = render_seconds(book_root)
    try:
        with time_limit(limit, f"template {template!r} took more than {limit:g} s (limits.render_seconds in crm.yaml); "
                               "look for loops that run too long"):
            return _bounded(env.get_template(template).generate(**context), limit, template)
    except TemplateNotFound:
        raise CrmError(f"no template {template!r} in the book's templates/ or crmctl's defaults; check --template") from None
    except TemplateSyntaxError as exc:
        raise CrmError(f"{exc.filename or template}:{exc.lineno}: template error: {exc.message}") from None
    except SecurityError as exc:
        raise CrmError(f"template {template!r} tried something the sandbox forbids: {exc}") from None
    except UndefinedError as exc:
        raise CrmError(f"template {template!r}: {exc.message}") from None


def _fetcher(roots: list[str]) -> Any:
    from urllib.request import url2pathname

    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class TemplateFetcher(URLFetcher):  # type: ignore[misc]
        """Serves data: URLs and files under the template folders; refuses the rest."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False)

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith("file:"):
                path = inside(url2pathname(url.split("?", 1)[0].split("#", 1)[0][len("file:"):]), roots)
                if path is not None:
                    with open(path, "rb") as handle:
                        body = handle.read()
                    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, body=body, headers={"Content-Type": kind})
            # WeasyPrint logs this and leaves the resource out
            raise ValueError(f"crmctl does not fetch {url[:80]!r}")

    return TemplateFetcher()


def html_to_pdf(html: str, book_root: str | None, out_path: str) -> None:
    """Write ``html`` as a PDF at ``out_path`` (atomically: old or new, never half)."""
    import logging

    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    roots = template_dirs(book_root)
    document = weasyprint.HTML(string=html, base_url=roots[0] + os.sep, url_fetcher=_fetcher(roots))
    write_atomic(out_path, document.write_pdf())


def write_atomic(out_path: str, blob: bytes) -> None:
    """Write ``blob`` at ``out_path``: old or new, never half; a symbolic link there is replaced, never followed."""
    folder = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(out_path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(blob)
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def render_pdf(book_root: str | None, template: str, context: dict[str, Any], out_path: str, lang: str = "en") -> str:
    """Render ``template`` to a PDF at ``out_path``; returns the HTML that was rendered."""
    html = render_html(book_root, template, context, lang)
    html_to_pdf(html, book_root, out_path)
    return html

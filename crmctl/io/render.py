"""Rendering documents: Jinja2 HTML in a sandbox, then WeasyPrint to PDF.

Templates come from the book's ``templates/`` first and crmctl's defaults
second, so a book overrides any default by name. Safety (DESIGN.md): the
Jinja2 environment is sandboxed with autoescaping, and WeasyPrint gets a
fetcher that serves only files under those template folders and ``data:``
URLs — no network, no other file. Jinja2, babel and WeasyPrint are imported
here, inside the functions that need them, never at start-up.
"""
from __future__ import annotations

import datetime as _dt
import mimetypes
import os
from decimal import Decimal
from typing import Any

from crmctl.core.errors import CrmError

PACKAGE_TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates")


def template_dirs(book_root: str | None) -> list[str]:
    """The folders templates and their assets may come from, book first."""
    dirs = []
    if book_root and os.path.isdir(os.path.join(book_root, "templates")):
        dirs.append(os.path.realpath(os.path.join(book_root, "templates")))
    dirs.append(os.path.realpath(PACKAGE_TEMPLATES))
    return dirs


def _babel_locale(lang: str) -> str:
    return {"zh-CN": "zh_CN", "zh": "zh_CN", "en": "en_US"}.get(lang, lang.replace("-", "_"))


def format_money(amount: Any, currency: str, lang: str) -> str:
    from babel.numbers import format_currency

    from crmctl.core.money import minor_unit, to_decimal

    value = to_decimal(amount)
    digits = minor_unit(currency)
    pattern = None if digits == 2 else "¤#,##0" + ("." + "0" * digits if digits else "")
    return str(format_currency(value, currency, format=pattern, locale=_babel_locale(lang), currency_digits=digits == 2))


def format_price(amount: Any, currency: str, lang: str) -> str:
    """A unit price: the currency's decimals, or more when the price has them (¥0.333 stays ¥0.333)."""
    from babel.numbers import format_currency

    from crmctl.core.money import minor_unit, to_decimal

    value = to_decimal(amount)
    digits = max(minor_unit(currency), -value.normalize().as_tuple().exponent if value else 0)
    if digits == minor_unit(currency):
        return format_money(value, currency, lang)
    pattern = "¤#,##0." + "0" * digits
    return str(format_currency(value, currency, format=pattern, locale=_babel_locale(lang), currency_digits=False))


def format_date(value: Any, lang: str, style: str = "medium") -> str:
    from babel.dates import format_date as babel_date

    if value in (None, ""):
        return ""
    day = value if isinstance(value, _dt.date) else _dt.date.fromisoformat(str(value)[:10])
    return str(babel_date(day, format=style, locale=_babel_locale(lang)))


def format_number(value: Any, lang: str) -> str:
    from babel.numbers import format_decimal

    return str(format_decimal(Decimal(str(value)), locale=_babel_locale(lang)))


def environment(book_root: str | None, lang: str) -> Any:
    """A sandboxed, autoescaping Jinja2 environment over the template folders."""
    from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    # HTML is escaped; a stylesheet included into <style> is CSS, which HTML escaping would break
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(template_dirs(book_root)),
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


def render_html(book_root: str | None, template: str, context: dict[str, Any], lang: str = "en") -> str:
    """Fill ``template`` with ``context``; a missing template is a clear error."""
    from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import SecurityError

    env = environment(book_root, lang)
    try:
        return str(env.get_template(template).render(**context))
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
                path = os.path.realpath(url2pathname(url.split("?", 1)[0].split("#", 1)[0][len("file:"):]))
                if any(path.startswith(root + os.sep) for root in roots) and os.path.isfile(path):
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
    folder = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(out_path)}.{os.getpid()}.tmp")
    try:
        document.write_pdf(tmp)
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def render_pdf(book_root: str | None, template: str, context: dict[str, Any], out_path: str, lang: str = "en") -> str:
    """Render ``template`` to a PDF at ``out_path``; returns the HTML that was rendered."""
    html = render_html(book_root, template, context, lang)
    html_to_pdf(html, book_root, out_path)
    return html

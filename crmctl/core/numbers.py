"""Reading numbers people type or files carry: one parser, one rule per context.

Every amount, price, quantity and percentage that enters crmctl from outside
(command options, ``--set``, imports) goes through :func:`parse_number` and
its typed wrappers :func:`parse_amount`, :func:`parse_quantity` and
:func:`parse_percent`. The rule in force is a :class:`NumberFormat`: which
character is the decimal mark (``.`` or ``,``), stated by the file or the
command (``--decimal-mark``, a mapping's ``decimal_mark``) or taken from the
book (``decimal_mark`` or ``locale`` in crm.yaml) — never guessed from the
text. Under that rule a value means exactly one number or it is refused with
one line that names the field and the fix:

* thousands may be grouped with the other mark, a space, NBSP, narrow NBSP or
  an apostrophe, but only in groups of three (``1,234,567.50``); ``1,5`` under
  ``.`` is refused, not read as 15;
* the other mark alone before three digits (``1.234`` under ``,``) could be a
  thousand or a fraction, so it is refused;
* a currency sign (``¥ $ € £ 元 RMB USD``…, before or after) must be the
  record's currency; numbers that are not money take none;
* no more decimals than allowed (the currency's, or ``price_digits`` for unit
  prices), no sign where negative means nothing, never ``-0``, ``NaN``,
  ``Infinity``, powers of ten (``1e400``) or magnitudes beyond the limits.

Values read back from our own files are exact text and go through
:func:`crmctl.core.money.to_decimal`; :func:`stored_problem` is what ``check``
says about such a value written by hand.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from crmctl.core.errors import CrmError, ValidationError
from crmctl.core.money import MAX_NUMBER, minor_unit

NBSP, NNBSP = "\u00a0", "\u202f"
SPACES = (" ", NBSP, NNBSP, "\u2009")           # space, no-break, narrow no-break, thin: one group family
APOSTROPHES = ("'", "\u2019")                   # Swiss 1'234.50 (and the typographic ’ babel writes)
MARKS = (".", ",")
MAX_AMOUNT = Decimal(10) ** 15                  # amounts and prices: below a thousand trillion
MAX_QUANTITY = 10 ** 9                          # quantities: below a billion units
MAX_PERCENT_DIGITS = 6                          # 33.333333%: a third, as payment plans write it
MINUS = "-\u2212"                               # ASCII hyphen-minus and the typographic minus sign

# signs that name a currency, and the currencies each may stand for
CURRENCY_SIGNS: dict[str, tuple[str, ...]] = {
    "¥": ("CNY", "JPY"), "￥": ("CNY", "JPY"), "CN¥": ("CNY",), "元": ("CNY",), "RMB": ("CNY",),
    "$": ("USD",), "US$": ("USD",), "HK$": ("HKD",), "NT$": ("TWD",), "S$": ("SGD",), "A$": ("AUD",),
    "C$": ("CAD",), "€": ("EUR",), "£": ("GBP",), "円": ("JPY",), "₩": ("KRW",), "₹": ("INR",), "₽": ("RUB",),
}
_NOT_FINITE = {"nan", "snan", "inf", "infinity", "∞"}


@functools.lru_cache(maxsize=None)
def locale_mark(locale: str) -> str:
    """The decimal mark of a locale (``zh_CN``, ``en``, ``de-DE``) from babel's CLDR data."""
    from babel import Locale, UnknownLocaleError
    from babel.numbers import get_decimal_symbol

    try:
        mark = get_decimal_symbol(Locale.parse(locale.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        raise CrmError(f"crm.yaml: locale {locale!r} is not a locale (write zh_CN, en_US, de_DE, ...)") from None
    if mark not in MARKS:
        raise CrmError(f"crm.yaml: locale {locale} writes decimals with {mark!r}; set decimal_mark: \".\" or \",\"")
    return mark


@dataclass(frozen=True)
class NumberFormat:
    """The rule numbers are read by in one context.

    ``decimal_mark`` is ``"."`` or ``","``; empty means the ``locale``'s,
    looked up (in babel) only when a text holds a ``.`` or ``,``. ``origin``
    says where the rule comes from and ``switch`` how to state the other one
    here (``"pass --decimal-mark {mark}"``); both are only for messages.
    """

    decimal_mark: str = ""
    locale: str = ""
    origin: str = ""
    switch: str = ""

    def __post_init__(self) -> None:
        if self.decimal_mark not in ("", *MARKS):
            raise CrmError(f"{self.origin or 'decimal mark'}: {self.decimal_mark!r} is not a decimal mark; use \".\" or \",\"")
        if not self.decimal_mark and not self.locale:
            object.__setattr__(self, "decimal_mark", ".")

    @property
    def mark(self) -> str:
        return self.decimal_mark or locale_mark(self.locale)

    @property
    def group_marks(self) -> tuple[str, ...]:
        """The characters that may group thousands under this rule."""
        return (self.other_mark, *SPACES, *APOSTROPHES)

    @property
    def other_mark(self) -> str:
        return "," if self.mark == "." else "."

    def other(self) -> NumberFormat:
        """The opposite rule (for the hint in a refusal)."""
        return NumberFormat(self.other_mark, origin=self.origin, switch=self.switch)

    def write(self, value: Decimal, group: str = "", places: int | None = None) -> str:
        """``value`` as text under this rule, grouped with ``group`` (e.g. ``1.234,50``)."""
        if places is not None:
            value = value.quantize(Decimal(1).scaleb(-places))
        text = f"{abs(value):f}"
        whole, _, frac = text.partition(".")
        if group:
            head = len(whole) % 3 or 3
            whole = group.join([whole[:head]] + [whole[i:i + 3] for i in range(head, len(whole), 3)])
        return ("-" if value.is_signed() else "") + whole + (self.mark + frac if frac else "")


def book_format(settings: Any, origin: str = "", switch: str = "") -> NumberFormat:
    """The book's rule: crm.yaml ``decimal_mark`` if set, else the ``locale``'s mark."""
    mark = str(settings.get("decimal_mark") or "")
    if mark:
        return NumberFormat(mark, origin=origin or "crm.yaml decimal_mark", switch=switch)
    locale = str(settings.get("locale") or "en")
    return NumberFormat("", locale, origin=origin or f"the book's locale {locale}", switch=switch)


def price_digits(settings: Any) -> int:
    """crm.yaml ``price_digits``: how many decimals a unit or list price may carry (default 4, 0 to 8)."""
    from crmctl.core.limits import read

    return int(read(settings, "price_digits", 4))


@functools.lru_cache(maxsize=None)
def _sign_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A currency sign or ISO code before and after a number (compiled on first use: start-up matters)."""
    signs = "|".join(re.escape(s) for s in sorted(CURRENCY_SIGNS, key=len, reverse=True))
    return (re.compile(rf"^(?:(?P<sign>{signs})|(?P<code>[A-Z]{{3}})(?![A-Za-z]))\s*"),
            re.compile(rf"\s*(?:(?P<sign>{signs})|(?<![A-Za-z])(?P<code>[A-Z]{{3}}))$"))


def _strip_currency(text: str, currency: str | None, field: str, shown: str, mismatch: str = "") -> str:
    """``text`` without a currency sign before or after; a sign must be ``currency``'s.

    ``mismatch`` is what to do about another currency's sign (default: write the amount in ``currency``).
    """
    if text.isdigit():
        return text
    for pattern in _sign_patterns():
        m = pattern.search(text)
        if not m:
            continue
        if m.group("code") and m.group("code").lower() in _NOT_FINITE:
            continue
        said = m.group("sign") or m.group("code")
        means = CURRENCY_SIGNS.get(said, (said.upper(),))
        if currency is None:
            raise ValidationError(f"{field}: {shown} is a plain number here; drop {said!r}")
        if currency.upper() not in means:
            if mismatch:
                raise ValidationError(f"{field}: {shown} is in {'/'.join(means)}; {mismatch}")
            raise ValidationError(f"{field}: {shown} is in {'/'.join(means)}, but this record is in {currency.upper()}; "
                                  f"write the amount in {currency.upper()} (or change the record's currency)")
        return text[:m.start()] + text[m.end():]
    return text


def _digits(text: str, fmt: NumberFormat) -> tuple[str, str] | str:
    """``(whole, fraction)`` digits of an unsigned number under ``fmt``, or why not."""
    mark = fmt.mark
    if text.count(mark) > 1:
        return f"has {mark!r} more than once"
    whole, _, frac = text.partition(mark)
    if not frac.isdigit() and frac:
        return f"has {frac!r} after its {mark!r}"
    if not whole and not frac:
        return "has no digits"
    used = {("space" if c in SPACES else "'" if c in APOSTROPHES else c) for c in whole if not c.isdigit()}
    if not used:
        return (whole or "0", frac) if whole.isascii() else "has digits crmctl does not read (write 0-9)"
    if len(used) > 1 or not all(c.isdigit() or c in fmt.group_marks for c in whole):
        return "mixes separators"
    groups = re.split("[" + re.escape("".join(fmt.group_marks)) + "]", whole)
    if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:]) and all(g.isdigit() and g.isascii() for g in groups)):
        if used == {fmt.other_mark}:
            return f"uses {fmt.other_mark!r}, which here only groups thousands (in threes)"
        return "groups its digits wrongly (thousands come in threes)"
    if used == {fmt.other_mark} and whole.count(fmt.other_mark) == 1 and mark not in text:
        return "ambiguous"
    return "".join(groups), frac


Accepts = Callable[[str], bool]   # whether a suggested text would itself be accepted where the refused one was typed


def _read(text: str, fmt: NumberFormat, currency: str | None, field: str, whole: bool = False,
          mismatch: str = "", accepts: Accepts | None = None, hint: str = "") -> tuple[Decimal, bool]:
    """The value of ``text`` under ``fmt`` and whether it carried a minus sign; refuses anything else."""
    shown = repr(text)
    body = text.strip(" \t" + NBSP + NNBSP)
    if not body:
        raise ValidationError(f"{field}: a number is needed here, got {shown}")
    if body.lower().lstrip("+" + MINUS) in _NOT_FINITE:
        raise ValidationError(f"{field}: {shown} is not a number crmctl stores (write a finite amount like 1234.50)")
    negative = False
    if body[0] in "+" + MINUS:
        negative, body = body[0] in MINUS, body[1:].lstrip()
    body = _strip_currency(body, currency, field, shown, mismatch).strip()
    if body[:1] in "+" + MINUS and not negative:
        negative, body = body[0] in MINUS, body[1:].lstrip()
    if re.fullmatch(r"[0-9.,]*[eE][+\-]?[0-9]+", body):
        raise ValidationError(f"{field}: {shown} is a power of ten; write the number out in full (like 1500000)")
    if not body or not all(c.isdigit() or c in MARKS or c in SPACES or c in APOSTROPHES for c in body):
        if whole:
            raise ValidationError(f"{field}: {shown} is not a whole number")
        raise ValidationError(f"{field}: {shown} is not a number ({hint or 'write it like ' + fmt.write(Decimal('1234.50'))})")
    if not any(c in MARKS for c in body):  # the mark cannot matter, so the locale is not even looked up
        parts = _digits(body, NumberFormat("."))
        if isinstance(parts, str):
            raise ValidationError(f"{field}: {shown} {parts}")
    else:
        parts = _digits(body, fmt)
        if isinstance(parts, str):
            raise ValidationError(_refusal(text, body, fmt, field, parts, accepts, hint))
    whole, frac = parts
    return Decimal(whole + ("." + frac if frac else "")), negative


def _refusal(text: str, body: str, fmt: NumberFormat, field: str, why: str, accepts: Accepts | None = None,
             hint: str = "") -> str:
    """The one line for a text the rule in force cannot read, with the fix: only suggestions ``accepts`` takes
    (a quantity is never told to write ``1.000``, a percentage never ``1234.50``); ``hint`` when none is left."""
    ok = accepts or (lambda _: True)
    other = _digits(body, fmt.other())
    mark = fmt.mark
    rule = f"{mark!r} is the decimal mark ({fmt.origin})" if fmt.origin else f"{mark!r} is the decimal mark"
    tail = f" ({hint})" if hint else ""
    if why == "ambiguous":
        whole, frac = other if isinstance(other, tuple) else (body, "")
        as_fraction = fmt.write(Decimal(f"{whole}.{frac}"))
        as_thousands = body.replace(fmt.other_mark, "")
        grouped = fmt.write(Decimal(as_thousands), fmt.other_mark, 2)
        firsts = [w for w in (as_thousands, grouped) if ok(w)]
        write = [f"{firsts[0]}" + (f" (or {firsts[1]})" if len(firsts) > 1 else "")] if firsts else []
        write += [as_fraction] if ok(as_fraction) else []
        advice = f"write {' or '.join(write)}" if write else (hint or "write the number without separators")
        return f"{field}: {text!r} could be {as_thousands} or {as_fraction}; {advice}" + (tail if write and hint and
                                                                                              len(write) < 2 else "")
    if isinstance(other, tuple):
        meant = fmt.write(Decimal(other[0] + ("." + other[1] if other[1] else "")))
        if ok(meant):
            switch = fmt.switch.format(mark=fmt.other_mark) + " or " if fmt.switch else ""
            return f"{field}: {text!r} {why}, and {rule}; {switch}write {meant}"
        return f"{field}: {text!r} {why}, and {rule}" + (f"; {hint}" if hint else "")
    return f"{field}: {text!r} {why}, and {rule}" + (f"; {hint}" if hint else "")


def _NEVER(_: str) -> bool:   # noqa: N802 - a constant: a suggestion's own refusal suggests nothing further
    return False


def _parses(parse: Callable[[], Any]) -> bool:
    """Whether ``parse()`` accepts its text (for filtering the suggestions of a refusal)."""
    try:
        parse()
    except ValidationError:
        return False
    return True


def parse_number(text: Any, *, fmt: NumberFormat, field: str, digits: int | None = None,
                 allow_negative: bool = True, limit: Decimal = MAX_AMOUNT, currency: str | None = None,
                 mismatch: str = "", accepts: Accepts | None = None, hint: str = "") -> Decimal:
    """An exact ``Decimal`` from text typed or imported, under the rule ``fmt``.

    ``digits`` caps the decimals (``None``: no cap); ``limit`` caps the magnitude
    (exclusive); ``currency`` is the only currency whose sign may appear (``None``:
    none may), and ``mismatch`` what the refusal of another one says to do. A refusal suggests only texts
    ``accepts`` takes (default: any this call would take), else says ``hint``. Native ints and floats (spreadsheet cells) are taken as they are
    and then held to the same limits. Raises :class:`ValidationError` naming
    ``field`` (``--amount``, ``row 3, column Amount``...) and the fix.
    """
    if isinstance(text, bool) or text is None:
        raise ValidationError(f"{field}: {text!r} is not a number")
    if isinstance(text, (int, float, Decimal)):
        try:
            value = Decimal(repr(text)) if isinstance(text, float) else Decimal(text)
        except InvalidOperation:  # pragma: no cover - repr of a float is always a Decimal literal
            raise ValidationError(f"{field}: {text!r} is not a number") from None
        if not value.is_finite():
            raise ValidationError(f"{field}: {text!r} is not a number crmctl stores (write a finite amount like 1234.50)")
        negative, value = value.is_signed(), abs(value)
    else:
        if accepts is None:
            def accepts(suggested: str) -> bool:
                return _parses(lambda: parse_number(suggested, fmt=fmt, field=field, digits=digits,
                                                    allow_negative=allow_negative, limit=limit, currency=currency,
                                                    accepts=_NEVER))
        value, negative = _read(str(text), fmt, currency, field, whole=digits == 0, mismatch=mismatch,
                                accepts=accepts, hint=hint)
    return _held(value, negative, text, field=field, digits=digits, allow_negative=allow_negative, limit=limit,
                 currency=currency)


def _held(value: Decimal, negative: bool, text: Any, *, field: str, digits: int | None, allow_negative: bool,
          limit: Decimal, currency: str | None) -> Decimal:
    """``value`` (unsigned) with its sign, once it is within the limits of its context."""
    shown = repr(text) if isinstance(text, str) else str(text)
    if negative and value == 0:
        raise ValidationError(f"{field}: {shown} is a negative zero; write 0")
    if negative and not allow_negative:
        raise ValidationError(f"{field}: {shown} cannot be negative here")
    if value >= limit:
        raise ValidationError(f"{field}: {shown} is too large (the limit is below {limit_text(limit)})")
    if digits == 0 and value != value.to_integral_value():
        raise ValidationError(f"{field}: {shown} is not a whole number")
    if digits is not None and value != value.quantize(Decimal(1).scaleb(-digits)):
        if currency and digits == minor_unit(currency):
            raise ValidationError(f"{field}: {shown} has too many decimals ({currency.upper()} has {digits} decimal places)")
        raise ValidationError(f"{field}: {shown} has too many decimals (at most {digits} here)")
    return -value if negative else value


def parse_amount(text: Any, *, currency: str, fmt: NumberFormat, field: str, digits: int | None = None,
                 allow_negative: bool = False) -> Decimal:
    """Money in ``currency``: at most ``digits`` decimals (default: the currency's minor unit).

    The result has the currency's fixed decimals, or more when ``digits``
    allows them and the text used them (unit prices: ``price_digits``), so
    ``"1,250,000"`` in CNY is ``Decimal("1250000.00")``.
    """
    places = minor_unit(currency)
    value = parse_number(text, fmt=fmt, field=field, digits=places if digits is None else digits,
                         allow_negative=allow_negative, currency=currency)
    used = max(places, -value.normalize().as_tuple().exponent if value else 0)  # type: ignore[operator]
    return value.quantize(Decimal(1).scaleb(-used))


def parse_quantity(text: Any, *, fmt: NumberFormat, field: str, minimum: int = 0, limit: int = MAX_QUANTITY) -> int:
    """A whole number of units (or of anything counted), ``minimum`` or more and below ``limit``.

    ``1.000`` under a ``.`` mark (``1,000`` under ``,``) is refused: a count has no
    decimals, so the zeros read as a fraction look like a thousands group.
    """
    if isinstance(text, str) and re.search(rf"{re.escape(fmt.mark)}0+\s*$", text.strip()) and \
            re.search(rf"[0-9]{re.escape(fmt.mark)}[0-9]{{3}}\s*$", text.strip()):
        whole = text.strip()[:-4]
        raise ValidationError(f"{field}: {text!r} could be {whole} or {whole}000; write {whole} or {whole}000 "
                              "(a quantity has no decimals)")
    def accepts(suggested: str) -> bool:
        return _parses(lambda: parse_quantity(suggested, fmt=fmt, field=field, minimum=minimum, limit=limit))

    value = parse_number(text, fmt=fmt, field=field, digits=0, limit=Decimal(limit), accepts=accepts,
                         hint="a quantity is a whole number, e.g. 1000")
    if value < minimum:
        raise ValidationError(f"{field} {text}: the quantity must be {minimum} or more")
    return int(value)


def parse_percent(text: Any, *, fmt: NumberFormat, field: str) -> Decimal:
    """Percent points from ``"5%"``, ``"2,5 %"`` (under ``,``) or ``5``: 0 to 100, at most 6 decimals."""
    raw = str(text).strip() if not isinstance(text, (int, float, Decimal)) or isinstance(text, bool) else text
    if isinstance(raw, str) and raw[-1:] in ("%", "％"):
        raw = raw[:-1].rstrip()
    def accepts(suggested: str) -> bool:
        return _parses(lambda: parse_percent(suggested, fmt=fmt, field=field))

    value = parse_number(raw, fmt=fmt, field=field, digits=MAX_PERCENT_DIGITS, allow_negative=True, accepts=accepts,
                         hint="a percentage is 0 to 100, e.g. " + fmt.write(Decimal("12.5")))
    if not 0 <= value <= 100:
        raise ValidationError(f"{field}: {text!r} must be between 0% and 100%")
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value  # "10", never "1E+1"


def limit_text(limit: Decimal) -> str:
    """A limit as messages and the README say it: ``10^15`` for a power of ten, else ``1,000``."""
    exponent = len(str(int(limit))) - 1
    return f"10^{exponent}" if limit == Decimal(10) ** exponent and exponent >= 9 else f"{limit:,.0f}"


_STORED = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


def _stored_text_problem(value: str, field: str, currency: str | None, digits: int | None) -> str | None:
    """Why the text of a stored number is not written as crmctl writes numbers (``"1234.50"``), or None."""
    shown = repr(value)
    if _STORED.fullmatch(value):
        places = len(value.partition(".")[2])
        if currency and digits == minor_unit(currency) and 0 < places < digits:
            return (f"{field}: {shown} is not written as crmctl writes {currency.upper()} amounts; "
                    f"write \"{Decimal(value).quantize(Decimal(1).scaleb(-digits))}\"")
        return None
    body = value.strip()
    if body != value and _STORED.fullmatch(body):
        return f"{field}: {shown} has spaces around it; write \"{body}\""
    if body.lower().lstrip("+-.") in _NOT_FINITE:
        return f"{field}: {shown} is not a number crmctl stores (write a finite amount like 1234.50)"
    if re.fullmatch(r"[-+]?[0-9.]*[eE][+\-]?[0-9]+", body):
        exact = Decimal(body) if abs(Decimal(body).adjusted()) <= 18 else None
        meant = f"{exact:f}" if exact is not None else "like 1500000"
        return f"{field}: {shown} is a power of ten; write the number out in full ({meant})"
    if re.fullmatch(r"[-+]?0[xXoObB][0-9a-fA-F_]+", body):
        return f"{field}: {shown} is a hexadecimal, octal or binary literal; write the number in decimal"
    return f"{field}: {shown} is not a number as crmctl writes them (write it like 1234.50: no signs, no separators)"


def stored_problem(value: Any, *, field: str, currency: str | None = None, digits: int | None = None,
                   allow_negative: bool = False, limit: Decimal = MAX_AMOUNT) -> str | None:
    """Why a number written in a record (by hand, or by an older crmctl) is not fit to keep, or None.

    Such values are exact text as crmctl writes it (``"1250000.00"``: digits,
    one ``.``, a ``-`` where negative means something; money with none or all
    of its currency's decimals) or a YAML int. Anything else — ``1,234.50``,
    ``¥100``, ``NaN``, ``1E+400``, ``0x10``, ``" 100.00"``, ``1234.5`` in CNY —
    is a problem, and so is a value outside the limits of the command that
    would have written it.
    """
    if isinstance(value, str):
        problem = _stored_text_problem(value, field, currency, digits)
        if problem:
            return problem
    elif isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return f"{field}: {value!r} is not a number"
    elif isinstance(value, Decimal) and not value.is_finite():
        return f"{field}: {value!r} is not a number crmctl stores (write a finite amount like 1234.50)"
    number = Decimal(value)
    try:
        _held(abs(number), number.is_signed(), value, field=field, digits=digits, allow_negative=allow_negative,
              limit=limit, currency=currency)
    except ValidationError as exc:
        return str(exc)
    return None


def stored_number(value: Any, **how: Any) -> Decimal | None:
    """The decimal of a stored number readers count, or None when :func:`stored_problem` (with ``how``: a field's
    currency, digits, sign and limit; by default signed and below :data:`MAX_AMOUNT`, the rule without a field's
    context) names a problem: the one rule the reports and ``crmctl sql`` (``_num``, ``dsum``) share, so
    ``"0002600000.00"``, ``"12.5%"`` or ``True`` is never counted by one and left out by the other."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        return None
    if stored_problem(value, field="", **{"allow_negative": True, **how}):
        return None
    return Decimal(value)


_COUNT_TEXT = re.compile(r"\+?[0-9]+", re.ASCII)   # a count's text, zero-padded or signed ones too (named, with what to write)


def stored_count_problem(value: Any, *, field: str, minimum: int = 0, limit: int = MAX_QUANTITY) -> str | None:
    """Why a count stored in a record (a quantity, a tier's minimum) is not a whole number written as one
    (``1``, ``"12"``), at least ``minimum`` and below ``limit``; None when it is. ``1.0`` (an editor's round
    trip) is refused with "write 1": a count has no decimals; so are ``004`` (kept as text by the loader, never
    read as 4) and ``"+4"``, with "write 4"."""
    if isinstance(value, str) and _COUNT_TEXT.fullmatch(value):
        if str(int(value)) != value:
            return f"{field}: {value!r} is not a count as crmctl writes it (write {int(value)})"
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        problem = stored_problem(value, field=field, limit=Decimal(limit))
        if problem:
            return problem
        whole = Decimal(str(value))
        return (f"{field}: {value!r} is not a whole number (write {int(whole)})" if whole == whole.to_integral_value()
                else f"{field}: {value!r} is not a whole number (a count has no decimals)")
    if value < 0:
        return f"{field}: {value} cannot be negative here"
    if not minimum <= value < limit:
        return f"{field}: {value} must be {minimum} or more and below {limit:,}"
    return None


def stored_count(value: Any, *, field: str, default: int, minimum: int = 0) -> int:
    """A count read from a record (``default`` when absent); ValidationError naming ``field`` when it is not one
    (see :func:`stored_count_problem`), never a crash on ``1.0``."""
    if value is None or value == "":
        return default
    problem = stored_count_problem(value, field=field, minimum=minimum)
    if problem:
        raise ValidationError(problem)
    return int(value)


__all__ = ["NumberFormat", "book_format", "price_digits", "parse_number", "parse_amount", "parse_quantity", "parse_percent",
           "stored_problem", "stored_number", "stored_count_problem", "stored_count", "limit_text", "locale_mark", "MAX_AMOUNT", "MAX_QUANTITY", "MAX_NUMBER", "CURRENCY_SIGNS"]

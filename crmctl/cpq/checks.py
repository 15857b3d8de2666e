"""CPQ's part of ``crmctl check``: a broken catalog, price book or quote is reported.

Catalog: option groups, defaults, rules, bundle components and related
products must name things that exist. Price books: entries for known SKUs,
tiers that make sense. Quotes that went out (approved, sent, accepted): the
approval must exist, match the priced content's hash, come from a user whose
role may approve it, and the line arithmetic must hold — so an approval
forged by editing the YAML is caught.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator, Mapping

from crmctl.core.book import Book, Record
from crmctl.core.errors import WARNING, CrmError, PolicyError, Problem
from crmctl.core.money import quantize, to_decimal
from crmctl.core.numbers import price_digits, stored_count_problem, stored_problem
from crmctl.core.states import QUOTE_APPROVED_OR_LATER, ApprovalState, QuoteStatus, quote_was_sent
from crmctl.core.text import a_an
from crmctl.cpq import policy
from crmctl.cpq.proof import approval_history_problem
from crmctl.cpq.configure import RULE_KINDS, as_list, groups
from crmctl.cpq.quotes import (accepted_rivals, altered_versions, contact_problem, duplicate_fees, line_in_file, requirement,
                               stored_numbers, tax_status_change)

Check = Callable[[Book], Iterable[Problem]]


def product_problems(sku: str, data: Mapping[str, Any], catalog: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(field, message)`` for each way a product definition is broken."""
    ptype = data.get("type", "simple")  # list prices and costs are checked with the schema (price_digits, not negative)
    for cur, amount in (data.get("prices") or {}).items():
        if stored_problem(amount, field=f"prices.{cur}") is None and to_decimal(amount) == 0:
            yield "prices", (f"prices.{cur}: {amount} must be more than 0; a free item is a bundle component "
                             "(mode: included), a lower price a discount the policy approves")
    known: dict[str, set[str]] = {}
    for n, grp in enumerate(groups(data), 1):
        gid = str(grp.get("id") or "")
        if not gid:
            yield "option_groups", f"option group {n} has no id"
            continue
        if gid in known:
            yield "option_groups", f"option group {gid!r} is defined twice"
        opts = [o for o in grp.get("options") or [] if isinstance(o, dict)]
        ids = [str(o.get("id")) for o in opts]
        known[gid] = set(ids)
        if not opts:
            yield "option_groups", f"option group {gid!r} has no options"
        if grp.get("choice", "single") not in ("single", "multiple"):
            yield "option_groups", f"option group {gid!r}: choice must be single or multiple"
        for default in as_list(grp.get("default")):
            if default not in ids:
                yield "option_groups", f"option group {gid!r}: default {default!r} is not one of its options ({', '.join(ids)})"
        if grp.get("choice", "single") == "single" and len(as_list(grp.get("default"))) > 1:
            yield "option_groups", f"option group {gid!r} is a single choice but has {len(as_list(grp.get('default')))} defaults"
        low, high = grp.get("min"), grp.get("max")
        if low is not None and high is not None and int(low) > int(high):
            yield "option_groups", f"option group {gid!r}: min {low} is more than max {high}"
        for opt in opts:
            if opt.get("price") is not None and opt.get("percent") is not None:
                yield "option_groups", f"option {gid}={opt.get('id')}: give a price or a percent, not both"
            for cur, amount in (opt.get("price") or {}).items() if isinstance(opt.get("price"), dict) else ():
                yield from _number("option_groups", amount, f"option {gid}={opt.get('id')} price.{cur}")
            if opt.get("percent") is not None:
                yield from _number("option_groups", opt["percent"], f"option {gid}={opt.get('id')} percent")
    if ptype == "configurable" and not known:
        yield "option_groups", "a configurable product needs option_groups"
    for n, rule in enumerate(data.get("rules") or [], 1):
        label = f"rule {rule.get('id') or n}"
        kind = rule.get("kind")
        if kind not in RULE_KINDS:
            yield "rules", f"{label}: kind must be one of {', '.join(RULE_KINDS)}"
            continue
        if kind == "quantity":
            if str(rule.get("accessory")) not in catalog:
                yield "rules", f"{label}: accessory {rule.get('accessory')!r} is not a product"
            continue
        if not as_list(rule.get("if")) or not as_list(rule.get("then")):
            yield "rules", f"{label}: needs both if: and then:"
        for term in as_list(rule.get("if")) + as_list(rule.get("then")):
            gid, sep, oid = term.partition("=")
            if not sep:
                yield "rules", f"{label}: {term!r} must be GROUP=OPTION (or GROUP=*)"
            elif gid not in known:
                yield "rules", f"{label}: unknown option group {gid!r}"
            elif oid != "*" and oid not in known[gid]:
                yield "rules", f"{label}: {gid} has no option {oid!r}"
    if data.get("min_qty") is not None:
        problem = stored_count_problem(data["min_qty"], field="min_qty", minimum=1)
        if problem:
            yield "min_qty", problem
    for comp in data.get("components") or []:
        if comp.get("qty") is not None:
            problem = stored_count_problem(comp["qty"], field=f"component {comp.get('sku')} qty", minimum=1)
            if problem:
                yield "components", problem
        if str(comp.get("sku")) not in catalog:
            yield "components", f"component {comp.get('sku')!r} is not a product"
        elif str(comp.get("sku")) == sku:
            yield "components", "a bundle cannot contain itself"
        if comp.get("mode", "included") not in ("included", "added", "optional"):
            yield "components", f"component {comp.get('sku')}: mode must be included, added or optional"
    if ptype == "bundle" and not data.get("components"):
        yield "components", "a bundle needs components"
    for rel in data.get("related") or []:
        if str(rel.get("sku")) not in catalog:
            yield "related", f"related product {rel.get('sku')!r} is not a product"


def _number(fname: str, value: Any, what: str, **limits: Any) -> Iterator[tuple[str, str]]:
    """A stored number that is not one, or breaks ``limits`` (see numbers.stored_problem)."""
    problem = stored_problem(value, field=what, **limits)
    if problem:
        yield fname, problem


def _positive(fname: str, value: Any, what: str) -> Iterator[tuple[str, str]]:
    """A price fit to keep (:func:`numbers.stored_problem`: a number, not negative) and more than 0: a free item is
    a bundle rule, a lower price a discount the policy must see."""
    problem = stored_problem(value, field=what)
    if problem:
        yield fname, problem
    elif to_decimal(value, what) == 0:
        yield fname, f"{what}: {value} must be more than 0; a free item is a bundle component (mode: included)"


def _percent(fname: str, value: Any, what: str) -> Iterator[tuple[str, str]]:
    """A percent off from 0 to less than 100 (100% off is a free item, a bundle rule)."""
    problem = stored_problem(value, field=what, limit=Decimal(100) + 1)
    if problem:
        yield fname, problem
    elif to_decimal(value, what) >= 100:
        yield fname, f"{what}: {value}% must be less than 100 (a free item is a bundle component)"


def pricebook_problems(data: Mapping[str, Any], catalog: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    applies = data.get("applies_to") or {"all": True}
    if not isinstance(applies, dict) or not set(applies) <= {"all", "tiers", "accounts"}:
        yield "applies_to", "applies_to takes all: true, tiers: [..] or accounts: [..]"
        return
    for key in ("tiers", "accounts"):
        if key in applies and not isinstance(applies[key], list):
            yield "applies_to", f"applies_to.{key} must be a list (write [{applies[key]}])"
    if applies.get("all") and (applies.get("tiers") or applies.get("accounts")):
        yield "applies_to", ("applies_to has all: true and named tiers or accounts, so it applies to everyone; "
                             "remove all (or the names)")
    if data.get("valid_from") and data.get("valid_to") and str(data["valid_from"]) > str(data["valid_to"]):
        yield "valid_to", "valid_to is before valid_from"
    for entry in data.get("entries") or []:
        sku = str(entry.get("sku"))
        if sku not in catalog:
            yield "entries", f"entry for {sku!r}: no such product"
        if entry.get("price") is not None:
            yield from _positive("entries", entry["price"], f"entry {sku} price")
        if entry.get("discount") is not None:
            yield from _percent("entries", entry["discount"], f"entry {sku} discount")
        for tier in entry.get("tiers") or []:
            if isinstance(tier, dict) and tier.get("price") is not None:
                yield from _positive("entries", tier["price"], f"entry {sku} tier min {tier.get('min')} price")
            if isinstance(tier, dict) and tier.get("discount") is not None:
                yield from _percent("entries", tier["discount"], f"entry {sku} tier min {tier.get('min')} discount")
        if entry.get("tier_mode", "range") not in ("range", "slab"):
            yield "entries", f"entry {sku}: tier_mode must be range or slab"
        counts = [(f"entry {sku} min_qty", entry.get("min_qty"))] + [
            (f"entry {sku} tier min", t.get("min")) for t in entry.get("tiers") or [] if isinstance(t, dict)]
        bad = [p for p in (stored_count_problem(v, field=what, minimum=1) for what, v in counts if v is not None) if p]
        if bad:
            yield from (("entries", p) for p in bad)
            continue
        mins = [int(t.get("min", 0)) for t in entry.get("tiers") or []]
        if mins != sorted(set(mins)) or any(m < 2 for m in mins):
            yield "entries", f"entry {sku}: tier minimums must rise and start at 2 or more ({mins})"


def impossible_options(sku: str, data: Mapping[str, Any]) -> Iterator[str]:
    """Options no configuration can hold: choosing one breaks a requires/conditional rule whatever else is chosen,
    because everything it requires is excluded by it (or no longer offered)."""
    rules = [r for r in data.get("rules") or [] if isinstance(r, dict)]
    offered = {f"{g.get('id')}={o.get('id')}" for g in groups(data) for o in g.get("options") or []
               if isinstance(o, dict) and o.get("active") is not False}

    def excluded(a: str, b: str) -> bool:
        return any(r.get("kind") == "excludes" and ((a in as_list(r.get("if")) and b in as_list(r.get("then")))
                                                     or (b in as_list(r.get("if")) and a in as_list(r.get("then"))))
                   for r in rules)
    for rule in rules:
        cond = as_list(rule.get("if"))
        if rule.get("kind") not in ("requires", "conditional") or len(cond) != 1 or cond[0] not in offered:
            continue
        needed = as_list(rule.get("then"))
        blocked = [t for t in needed if excluded(cond[0], t) or (not t.endswith("=*") and t not in offered)]
        if needed and (len(blocked) == len(needed) if rule.get("kind") == "requires" else blocked):
            yield (f"option {cond[0]} can never be chosen: rule {rule.get('id') or rule.get('kind')} requires "
                   f"{' or '.join(needed)}, which it excludes or which is not offered")


def check_products(book: Book) -> Iterator[Problem]:
    catalog = book.records("products")
    for rec in catalog.values():
        for fname, message in product_problems(rec.id, rec.data, catalog):
            yield Problem(rec.path, rec.line(fname), message, "catalog")
        for message in impossible_options(rec.id, rec.data):
            yield Problem(rec.path, rec.line("rules"), message, WARNING)


def audience(data: Mapping[str, Any]) -> set[str]:
    """Whom a price book is for: ``all``, ``tier:A``, ``account:acme``."""
    applies = data.get("applies_to") or {"all": True}
    if not isinstance(applies, dict):
        return set()
    return ({"all"} if applies.get("all") else set()) | {f"tier:{t}" for t in as_list(applies.get("tiers"))} \
        | {f"account:{a}" for a in as_list(applies.get("accounts"))}


def _overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    start = max(str(a.get("valid_from") or ""), str(b.get("valid_from") or ""))
    ends = [str(x) for x in (a.get("valid_to"), b.get("valid_to")) if x]
    return not ends or start <= min(ends)


def tied_pricebooks(books: list[Record]) -> Iterator[tuple[Record, Record, str]]:
    """Pairs of active books in one currency with the same priority for the same audience over overlapping dates."""
    live = [b for b in books if b.get("active") is not False]
    for i, a in enumerate(live):
        for b in live[i + 1:]:
            shared = audience(a.data) & audience(b.data)
            if (shared and str(a.get("currency")) == str(b.get("currency"))
                    and int(a.get("priority") or 0) == int(b.get("priority") or 0) and _overlap(a.data, b.data)):
                yield a, b, sorted(shared)[0]


def check_pricebooks(book: Book) -> Iterator[Problem]:
    catalog = book.records("products")
    books = sorted(book.all("pricebooks"), key=lambda r: r.id)
    for rec in books:
        for fname, message in pricebook_problems(rec.data, catalog):
            yield Problem(rec.path, rec.line(fname), message, "pricebook")
    for a, b, who in tied_pricebooks(books):
        yield Problem(a.path, a.line("priority"), f"price books {a.id} and {b.id} tie for {who} (priority "
                                                  f"{a.get('priority') or 0}, {a.get('currency')}): each quote takes the "
                                                  "one with the better price for the customer; give one a higher priority",
                      WARNING)


def quote_problems(book: Book, rec: Record) -> Iterator[tuple[Any, str]]:
    """``(where, message)``: arithmetic of the stored lines, and the approval of a quote that went out; ``where`` is a
    field, or the keys down to a line's bad number (``("lines", 0, "qty")``)."""
    data = rec.data
    cur = str(data.get("currency") or "CNY")
    rounding = book.settings.rounding
    book_rec = book.records("pricebooks").get(str(data.get("pricebook"))) if data.get("pricebook") else None
    if book_rec is not None and str(book_rec.get("currency")) != cur:
        yield "pricebook", (f"price book {book_rec.id} is in {book_rec.get('currency')}, the quote in {cur}: its amounts "
                            f"are not {cur} prices of that book; set currency back to {book_rec.get('currency')}, or start "
                            f"a new quote with --currency {cur}")
    if data.get("date") and data.get("valid_until") and str(data["valid_until"])[:10] < str(data["date"])[:10]:
        yield "valid_until", (f"valid_until {str(data['valid_until'])[:10]} is before the quote's date "
                              f"{str(data['date'])[:10]}: it expired the day it was made; `crmctl quote revise` it")
    totals = data.get("totals") if isinstance(data.get("totals"), Mapping) else {}
    if totals.get("tax_exempt") and stored_problem(totals.get("tax") or "0", field="totals.tax") is None and \
            to_decimal(totals.get("tax") or 0) != 0:
        yield "totals", (f"totals say the quote carries no tax ({totals['tax_exempt']}) yet charge tax {totals['tax']}: "
                         "its document would state a treatment its figures do not apply; price it again")
    for problem in duplicate_fees(list(data.get("fees") or []), rec.id):
        yield "fees", problem
    wrong = contact_problem(book, data)
    if wrong:
        yield "contact", wrong
    if str(data.get("status")) == QuoteStatus.ACCEPTED.value:
        rivals = [r.id for r in accepted_rivals(book, rec.id, data) if r.id < rec.id]
        if rivals:
            yield "opportunity", (f"opportunity {data.get('opportunity')} has another accepted quote ({', '.join(rivals)}) "
                                  "whose order stands: one deal, two orders; cancel one of the orders")
    for _, why in altered_versions(data):
        yield "versions", why + "; restore it from git (`git log -p` on this file)"
    numbers = stored_numbers(data, price_digits(book.settings))
    if numbers:   # nothing below can add them up
        yield from ((where, problem) for where, problem in numbers)
        return
    broken = list(line_problems(data, rounding))
    yield from (("lines", message) for message, _ in broken)
    if any(fatal for _, fatal in broken):
        return
    edited = as_sent_problem(data)
    if edited:
        yield "as_sent", edited
    if data.get("status") not in QUOTE_APPROVED_OR_LATER:
        return
    state = policy.approval_state(data)
    if state != ApprovalState.VALID:
        changed = ", ".join(policy.changed_fields(data))
        yield "approval", (f"{data.get('status')} quote has "
                           f"{'no approval' if state == ApprovalState.MISSING else 'a stale approval'}"
                           f" (its hash does not match the priced content{'; changed: ' + changed if changed else ''});"
                           " submit it again")
        return
    moved = None if quote_was_sent(data) else tax_status_change(book, data)
    if moved:
        yield "approval", f"{data.get('status')} quote has a stale approval: {moved}; submit it again"
    try:
        need = requirement(book, data, frozen=True)
    except CrmError as exc:
        yield "lines", f"cannot be judged by the discount policy: {exc}"
        return
    for reason in need.beyond:
        yield "lines", f"breaks the discount policy: {reason}"
    approver = book.records("users").get(str(data["approval"].get("by")))
    if approver is None:
        yield "approval", f"approved by {data['approval'].get('by')!r}, who is not a user"
    elif not policy.may_approve(book.settings, approver.get("role"), need.role):
        yield "approval", (f"approved by {approver.id} ({approver.get('role')}), but it needs {a_an(need.role)}: "
                           + "; ".join(need.reasons))


def every_quote_problem(book: Book, rec: Record, day: _dt.date) -> Iterator[tuple[Any, str, str]]:
    """``(field, message, kind)``: everything `check` reports about one quote — its arithmetic, currency, fees and
    approval (:func:`quote_problems`), its approval history, Incoterms and (an English quote) untranslated text.

    ``submit``, ``approve`` and ``send`` refuse a quote with any of them (:func:`refuse_problems`): one rule.
    """
    from crmctl.cpq.document import untranslated
    from crmctl.cpq.quotes import incoterms_problem

    found = list(quote_problems(book, rec))
    for fname, message in found:
        yield fname, message, "quote"
    if any(isinstance(where, tuple) or where == "lines" for where, _ in found):
        return   # its document cannot be laid out to look for untranslated text
    why = approval_history_problem(rec.data)
    if why:
        yield "approval", why, "approval"
    if rec.get("incoterms") not in (None, ""):
        problem = incoterms_problem(str(rec.get("incoterms")))
        if problem:
            yield "incoterms", problem, "quote"
    if str(rec.get("lang") or "") == "en":
        for message in untranslated(book, rec, day):
            yield "lang", f"English quote: {message}", "quote"


def refuse_problems(book: Book, qid: str, data: Mapping[str, Any], doing: str, day: _dt.date) -> None:
    """Raise PolicyError naming every problem `check` would report about the quote ``data`` (see
    :func:`every_quote_problem`), so a writer never lets through what `check` calls wrong."""
    found = [message for _, message, _ in every_quote_problem(book, Record("quotes", qid, dict(data)), day)]
    if found:
        raise PolicyError(f"cannot {doing}: " + "; ".join(found) + " (`crmctl check` reports the same)")


def line_problems(data: Mapping[str, Any], rounding: str) -> Iterator[tuple[str, bool]]:
    """The stored lines' arithmetic as ``(message, fatal)``: a quantity that is not a whole number of 1 or more,
    a net of 0 or less, a net that does not follow from gross less the line discount (rounded with ``rounding``).
    ``fatal``: the lines cannot be read as numbers at all (nothing else about them can be judged); stops there."""
    cur = str(data.get("currency") or "CNY")
    for n, line in enumerate(data.get("lines") or [], 1):
        # the rule stored_numbers (so `check` and every quote command) reads a quantity by
        problem = stored_count_problem(line.get("qty"), field=f"line {n} ({line.get('sku')}) qty", minimum=1)
        if problem:
            yield problem, True
            return
    try:
        for n, line in enumerate(data.get("lines") or [], 1):
            if to_decimal(line.get("net")) <= 0:
                yield (f"line {n} ({line.get('sku')}): net {line.get('net')} must be more than 0; a free item is "
                       "a bundle component (mode: included)"), False
            gross, pct = to_decimal(line.get("gross")), to_decimal(line.get("discount") or 0)
            expect = gross - quantize(gross * pct / Decimal(100), cur, rounding)
            if to_decimal(line.get("net")) != expect:
                yield (f"line {n} ({line.get('sku')}): net {line.get('net')} does not follow from gross {gross} "
                       f"less {pct}% ({expect})"), False
    except CrmError as exc:
        yield str(exc), True


def as_sent_problem(data: Mapping[str, Any]) -> str | None:
    """Why a sent quote's frozen document (``as_sent``) is not what ``quote send`` froze (None when it is, or when
    the send predates the digest)."""
    if not quote_was_sent(data):   # a revision being drafted: its as_sent is gone with the version it belonged to
        return None
    sent = [e for e in data.get("status_history") or [] if isinstance(e, Mapping) and e.get("action") == "sent"]
    recorded = sent[-1].get("document") if sent else None
    if not recorded or recorded == policy.digest_of(data.get("as_sent")):
        return None
    return ("as_sent is not what `quote send` froze (a hand edit?): a re-render would print it; restore it from git "
            "(`git log -p` on this file)")


def check_quotes(book: Book) -> Iterator[Problem]:
    from crmctl.core.clock import today

    day = today(book.settings)
    for rec in book.all("quotes"):
        for where, message, kind in every_quote_problem(book, rec, day):
            line = line_in_file(book, rec, where) if isinstance(where, tuple) else rec.line(where)
            yield Problem(rec.path, line, message, kind)


def check_policy_authors(book: Book) -> Iterator[Problem]:
    """A price-book, price, discount-policy or team (new user, role) change in git history by a user whose role
    just before it may not make it (:mod:`crmctl.cpq.authority`).

    With ``policy.signed_approvals``, from the commit that turned it on, such a change must be in a commit
    signed by the key of a user who held such a role (the author field is anyone's to type); before it, the
    author is judged.
    """
    import os

    from crmctl.core import signing
    from crmctl.cpq import authority

    root = book.git_root()
    if not root:
        return
    prefix = authority.book_prefix(root, book.root)
    everyone = book.records("users")
    users = {str(r.get("email") or "").lower(): r for r in everyone.values() if r.get("email")}
    changes = list(authority.history(root, book.root))
    since = authority.signing_since(root, changes) if signing.signed_approvals(book.settings) else None
    for commit, email, path, relative in changes[:since]:
        user = users.get(email)
        if user is None:
            continue
        key = authority.TEAM_KEY if relative.startswith("records/users/") else authority.PRICING_KEY
        roles = authority.maintainers(book.settings, key)
        role = authority.role_before(root, prefix, commit, user)
        if role in roles or not authority.roles_held_before(root, prefix, commit, roles):
            continue
        what = authority.policy_change(root, commit, path, relative, user.id)
        if what:
            yield Problem(relative, 1, f"commit {commit[:10]} by {user.id} ({role}) {what if key == authority.TEAM_KEY else 'changed ' + what}; "
                                       f"only {', '.join(roles)} may (crm.yaml {key})", "policy")
    if since is None:
        return
    switch = changes[since][0]  # judged once, by its crm.yaml: its signature covers the rest of it
    judged = [change for change in changes[since:] if change[0] != switch or change[3] == "crm.yaml"]
    sigs = signing.signatures(root, everyone.values(), {change[0] for change in judged},
                              os.path.join(book.root, ".crmctl", "cache", "signatures.json"))
    for commit, _email, path, relative in judged:
        signer = sigs[commit].signer if commit in sigs else None
        what = authority.policy_change(root, commit, path, relative, signer)  # a signer re-keying his own record
        if not what:
            continue
        key = authority.TEAM_KEY if relative.startswith("records/users/") else authority.PRICING_KEY
        roles = authority.maintainers(book.settings, key)
        why = authority.signature_problem(root, prefix, sigs.get(commit), everyone, roles)
        if why:
            yield Problem(relative, 1, f"commit {commit[:10]} {what if key == authority.TEAM_KEY else 'changed ' + what}; "
                                       f"with policy.signed_approvals it must be signed by one of {', '.join(roles)} "
                                       f"(crm.yaml {key}), but {why.replace(f'commit {commit[:10]} ', 'it ')}", "policy")


def check_out_dir(book: Book) -> Iterator[Problem]:
    """crm.yaml ``quotes.out_dir`` outside the book (absolute, ``..``, a symlink on the way): every default
    ``quote render`` would write there."""
    from crmctl.cpq.document import out_dir_problem

    problem = out_dir_problem(book)
    if problem:
        yield Problem(book.settings.path, book.settings.lines.get("quotes", 1), f"quotes.out_dir: {problem}", "settings")


def check_signed_approvals(book: Book) -> Iterator[Problem]:
    """With ``policy.signed_approvals``: each approval decision no commit signed by its approver proves."""
    from crmctl.cpq.signed import unproven

    quotes = book.records("quotes")
    for qid, reasons in unproven(book, quotes.values()).items():
        for why in reasons:
            yield Problem(quotes[qid].path, quotes[qid].line("approvals"), why, "approval")


CHECKS: tuple[Check, ...] = (check_products, check_pricebooks, check_quotes, check_signed_approvals, check_policy_authors,
                             check_out_dir)

"""Who belongs to which account: indexed once, then lookups are O(1).

The 360° view and the customers report both need, for an account, its
subsidiaries and every contact, opportunity, quote, order, payment and visit
that points at it. Scanning every record for every account would be O(n·m);
instead records are filed under the account their reference field names
(found from the schemas, so a new type with an ``account`` ref is covered).

* :class:`Related` reads every record of each type once (one pass per type):
  right for reports over all accounts.
* :class:`IndexedRelated` reads only one account group's records, found
  through :mod:`crmctl.mcr.index` (account → ids, from the read model):
  right for ``account show`` on a big book.
"""
from __future__ import annotations

import os
from collections import defaultdict
from typing import Iterable

from crmctl.core import yamlio
from crmctl.core.book import Book, Record
from crmctl.core.errors import LoadError
from crmctl.core.ids import ID_PATTERN
from crmctl.mcr.index import AccountIndex, account_field

# the types the 360° view and the value report read
VIEW_TYPES = ("contacts", "opportunities", "quotes", "orders", "payments", "visits")


class AccountTree:
    """The account hierarchy: parents, children, groups. Merged accounts take no part."""

    def __init__(self, book: Book) -> None:
        self.book = book

    def account(self, rid: str) -> Record | None:
        raise NotImplementedError

    def children_of(self, rid: str) -> list[str]:
        raise NotImplementedError

    def find(self, ref: str) -> Record:
        """The account an id or unique prefix names, following a merge redirect."""
        return self.book.get("accounts", ref)

    def descendants(self, account_id: str) -> list[str]:
        """Subsidiaries at every level below ``account_id`` (a loop is cut, not followed)."""
        found: list[str] = []
        seen = {account_id}
        frontier = [account_id]
        while frontier:
            for kid in self.children_of(frontier.pop()):
                if kid not in seen:
                    seen.add(kid)
                    found.append(kid)
                    frontier.append(kid)
        return found

    def group(self, account_id: str) -> list[str]:
        """The account and all its subsidiaries: what its figures roll up."""
        return [account_id, *self.descendants(account_id)]

    def ancestors(self, account_id: str) -> list[str]:
        """Parent, grandparent, ... up to the top of the group."""
        chain: list[str] = []
        start = self.account(account_id)
        current = start.get("parent") if start else None
        while current and current not in chain and current != account_id:
            chain.append(current)
            parent = self.account(current)
            current = parent.get("parent") if parent else None
        return chain

    def record(self, rtype: str, rid: str) -> Record | None:
        """One record by id (accounts from the tree; other types from the book)."""
        if rtype == "accounts":
            return self.account(rid)
        return self.book.records(rtype).get(rid)

    # what both kinds of index provide
    def of(self, rtype: str, account_ids: Iterable[str]) -> list[Record]:
        raise NotImplementedError

    def payments_of(self, order: Record) -> list[Record]:
        """The order's payments received by the book's today (a book read ``--as-of`` a day: that day; see
        :func:`crmctl.l2c.orders.received_by`)."""
        from crmctl.core.clock import today
        from crmctl.l2c.orders import received_by

        return received_by(self._payments_of(order), today(self.book.settings))[0]

    def _payments_of(self, order: Record) -> list[Record]:
        raise NotImplementedError


class Related(AccountTree):
    """Every record of each type read once and filed under its account."""

    def __init__(self, book: Book, types: Iterable[str] = VIEW_TYPES) -> None:
        super().__init__(book)
        self.accounts = book.records("accounts")
        self.children: dict[str, list[str]] = defaultdict(list)
        for rec in self.accounts.values():
            parent = rec.get("parent")
            if parent and not rec.merged_into:
                self.children[parent].append(rec.id)
        for kids in self.children.values():
            kids.sort()
        self.by_account: dict[str, dict[str, list[Record]]] = {}
        self.payments_by_order: dict[str, list[Record]] = defaultdict(list)
        order_account: dict[str, str] = {}
        for rtype in sorted(types, key=lambda t: t == "payments"):  # orders before payments
            index: dict[str, list[Record]] = defaultdict(list)
            fname = account_field(rtype)
            for rec in book.live(rtype).values():
                target = rec.data.get(fname) if fname else None
                if rtype == "orders" and target:
                    order_account[rec.id] = target
                if rtype == "payments" and rec.get("order"):
                    self.payments_by_order[rec.data["order"]].append(rec)
                    target = order_account.get(rec.data["order"], target)  # a payment belongs where its order does
                if target:
                    index[target].append(rec)
            self.by_account[rtype] = index

    def account(self, rid: str) -> Record | None:
        return self.accounts.get(rid)

    def children_of(self, rid: str) -> list[str]:
        return self.children.get(rid, [])

    def of(self, rtype: str, account_ids: Iterable[str]) -> list[Record]:
        index = self.by_account.get(rtype, {})
        out: list[Record] = []
        for aid in account_ids:
            out.extend(index.get(aid, ()))
        return out

    def _payments_of(self, order: Record) -> list[Record]:
        return self.payments_by_order.get(order.id, [])


class IndexedRelated(AccountTree):
    """Only the records of the accounts asked for, read file by file through the account index.

    Each file is read fresh (the C loader, about 2,000 files a second), so the
    data is never stale; a record whose account field no longer matches (a
    file changed after the index was refreshed) is dropped.
    """

    def __init__(self, book: Book) -> None:
        super().__init__(book)
        self.index = AccountIndex(book)
        self._loaded: dict[tuple[str, str], Record | None] = {}

    def load(self, rtype: str, rid: str) -> Record | None:
        key = (rtype, rid)
        if key not in self._loaded:
            if not rid or not ID_PATTERN.fullmatch(rid):
                return None
            path = os.path.join(self.book.folder(rtype), f"{rid}.yaml")
            try:
                data, lines = yamlio.load_path(path, f"records/{rtype}/{rid}.yaml")
                self._loaded[key] = self.book.screen(rtype, rid, data, lines)  # bad stored numbers left out, warned
            except LoadError as exc:
                self.book.problems.append(exc.problem)  # warned about, like any bad file
                self._loaded[key] = None
        return self._loaded[key]

    def record(self, rtype: str, rid: str) -> Record | None:
        if rtype in VIEW_TYPES:
            return self.load(rtype, rid)  # one file, not the whole type
        return super().record(rtype, rid)

    def account(self, rid: str) -> Record | None:
        return self.load("accounts", rid)

    def children_of(self, rid: str) -> list[str]:
        kids = []
        for kid in self.index.ids("accounts", rid, by="parent"):
            rec = self.load("accounts", kid)
            if rec is not None and rec.get("parent") == rid and not rec.merged_into:
                kids.append(kid)
        return sorted(kids)

    def find(self, ref: str) -> Record:
        """An exact id is read from its file; a prefix or a redirect goes through the book."""
        rid = (ref or "").strip().lower()
        rec = self.load("accounts", rid) if os.path.exists(os.path.join(self.book.folder("accounts"), f"{rid}.yaml")) else None
        if rec is not None and not rec.merged_into:
            return rec
        return self.book.get("accounts", ref)

    def of(self, rtype: str, account_ids: Iterable[str]) -> list[Record]:
        if rtype == "payments":  # a payment belongs where its order does
            return [p for order in self.of("orders", account_ids) for p in self.payments_of(order)]
        fname = account_field(rtype)
        out: list[Record] = []
        for aid in account_ids:
            for rid in self.index.ids(rtype, aid):
                rec = self.load(rtype, rid)
                if rec is not None and not rec.merged_into and rec.data.get(fname or "") == aid:
                    out.append(rec)
        return out

    def _payments_of(self, order: Record) -> list[Record]:
        out = []
        for rid in self.index.ids("payments", order.id, by="order"):
            rec = self.load("payments", rid)
            if rec is not None and rec.get("order") == order.id:
                out.append(rec)
        return out

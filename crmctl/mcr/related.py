"""Who belongs to which account: one pass per record type, then lookups are O(1).

The 360° view and the customers report both need, for an account, its
subsidiaries and every contact, opportunity, quote, order, payment and visit
that points at it. Scanning every record for every account would be O(n·m);
instead :class:`Related` reads each type once and files each record under
the accounts its reference fields name (found from the schemas, so a new
type with an ``account`` ref is covered without changes here).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from crmctl.core.book import Book, Record
from crmctl.core.schemas import get_schema

# the types the 360° view and the value report read (others load only if asked for)
VIEW_TYPES = ("contacts", "opportunities", "quotes", "orders", "payments", "visits")


def account_fields(rtype: str) -> tuple[str, ...]:
    """The fields of ``rtype`` that reference an account (single refs only)."""
    return tuple(f.name for f in get_schema(rtype).fields if f.ref == "accounts" and f.kind == "ref" and f.name != "merged_into")


class Related:
    """Accounts' hierarchy and each account's related records, indexed once."""

    def __init__(self, book: Book, types: Iterable[str] = VIEW_TYPES) -> None:
        self.book = book
        self.accounts = book.records("accounts")
        self.children: dict[str, list[str]] = defaultdict(list)
        for rec in self.accounts.values():
            parent = rec.get("parent")
            if parent and not rec.get("merged_into"):
                self.children[parent].append(rec.id)
        for kids in self.children.values():
            kids.sort()
        self.by_account: dict[str, dict[str, list[Record]]] = {}
        self.payments_by_order: dict[str, list[Record]] = defaultdict(list)
        for rtype in types:
            index: dict[str, list[Record]] = defaultdict(list)
            fields = [f for f in account_fields(rtype) if f != "parent"]
            for rec in book.all(rtype):
                if rec.get("merged_into"):
                    continue
                for fname in fields:
                    target = rec.data.get(fname)
                    if target:
                        index[target].append(rec)
                        break  # a record counts once per account
                if rtype == "payments" and rec.get("order"):
                    self.payments_by_order[rec.data["order"]].append(rec)
            self.by_account[rtype] = index

    def of(self, rtype: str, account_ids: Iterable[str]) -> list[Record]:
        """Records of ``rtype`` that belong to any of ``account_ids``."""
        index = self.by_account.get(rtype, {})
        out: list[Record] = []
        for aid in account_ids:
            out.extend(index.get(aid, ()))
        return out

    def descendants(self, account_id: str) -> list[str]:
        """Subsidiaries at every level below ``account_id`` (a loop is cut, not followed)."""
        found: list[str] = []
        seen = {account_id}
        frontier = [account_id]
        while frontier:
            for kid in self.children.get(frontier.pop(), ()):
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
        current = self.accounts[account_id].get("parent") if account_id in self.accounts else None
        while current and current not in chain and current != account_id:
            chain.append(current)
            parent = self.accounts.get(current)
            current = parent.get("parent") if parent else None
        return chain

    def payments_of(self, order: Record) -> list[Record]:
        return self.payments_by_order.get(order.id, [])

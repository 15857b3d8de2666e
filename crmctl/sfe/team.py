"""The team: users, their managers and roles."""
from __future__ import annotations

from typing import Any

from crmctl.core.book import Book
from crmctl.core.errors import ValidationError


def user_rule(book: Book, rid: str, data: dict[str, Any]) -> None:
    """A user's email is unique and the manager chain has no loop."""
    email = str(data.get("email", "")).lower()
    for other in book.all("users"):
        if other.id != rid and str(other.get("email", "")).lower() == email:
            raise ValidationError(f"user {rid}: email {email} already belongs to user {other.id}")
    seen = [rid]
    current = data.get("manager")
    users = book.records("users")
    while current:
        if current in seen:
            raise ValidationError(f"user {rid}: manager {data.get('manager')} would make a loop ({' -> '.join([*seen, current])})")
        seen.append(current)
        manager = users.get(current)
        current = manager.get("manager") if manager else None


def reports(book: Book, manager: str) -> list[str]:
    """Everyone who reports to ``manager``, directly or not."""
    users = book.all("users")
    found: list[str] = []
    frontier = [manager]
    while frontier:
        boss = frontier.pop()
        for user in users:
            if user.get("manager") == boss and user.id not in found:
                found.append(user.id)
                frontier.append(user.id)
    return found

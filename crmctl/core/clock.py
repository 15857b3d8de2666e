"""One reading of the clock, taken by the command line and passed into the domain.

Domain code (CPQ in particular) never reads the time itself: a command reads
the clock once (:meth:`Clock.read`, which honours ``$CRMCTL_NOW``) and hands
the same :class:`Clock` to every function, so the timestamp written into a
history and the day that decided "expired" are the same instant, and tests
can pass any moment they like.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from crmctl.core.settings import Settings


@dataclass(frozen=True)
class Clock:
    """``at``: an ISO 8601 timestamp with the book's offset (``2026-03-02T09:00:00+08:00``)."""

    at: str

    @property
    def today(self) -> _dt.date:
        """The day ``at`` falls on in the book's zone."""
        return _dt.date.fromisoformat(self.at[:10])

    @classmethod
    def read(cls, settings: Settings | None) -> Clock:
        from crmctl.core.book import now_iso

        return cls(now_iso(settings))

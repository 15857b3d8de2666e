"""Leads and the lead pool (公海): ownership, status changes, recycling and conversion.

Every function here is pure: it takes a lead's data (and what it needs to
know about the book) and returns new data, or raises a :class:`CrmError`
that says what to do. Status and owner changes append to the lead's
``history`` (``{at, by, event, from, to[, reason]}``) and every change sets
``last_touched``, which is what recycling looks at.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Callable, Iterable

from crmctl.core.book import Record
from crmctl.core.errors import PolicyError, ValidationError
from crmctl.core.limits import read
from crmctl.core.settings import Settings
from crmctl.core.states import LeadStatus, lead_is_converted, lead_open_statuses

Data = dict[str, Any]


def ensure_editable(lead_id: str, data: Data) -> None:
    """A converted lead is a record of what happened: it never changes again."""
    if lead_is_converted(data):
        links = ", ".join(f"{k} {v}" for k, v in (data.get("converted") or {}).items())
        raise PolicyError(f"lead {lead_id} is converted ({links or 'done'}) and read-only; work on what it became instead")


def touch(data: Data, at: str) -> Data:
    out = dict(data)
    out["last_touched"] = at
    return out


def _event(data: Data, event: str, old: Any, new: Any, by: str | None, at: str, **extra: Any) -> Data:
    entry = {"at": at, "by": by, "event": event, "from": old, "to": new, **extra}
    out = touch(data, at)
    out["history"] = [*(data.get("history") or []), {k: v for k, v in entry.items() if v is not None}]
    return out


def set_status(data: Data, status: str, by: str | None, at: str, **extra: Any) -> Data:
    if data.get("status") == status:
        return touch(data, at)
    out = _event(data, "status", data.get("status"), status, by, at, **extra)
    out["status"] = status
    return out


def set_owner(data: Data, owner: str | None, by: str | None, at: str, **extra: Any) -> Data:
    out = _event(data, "owner", data.get("owner"), owner, by, at, **extra)
    if owner:
        out["owner"] = owner
    else:
        out.pop("owner", None)
    return out


def open_count(leads: Iterable[Record], owner: str, settings: Settings, excluding: str | None = None) -> int:
    statuses = set(lead_open_statuses(settings))
    return sum(1 for r in leads if r.get("owner") == owner and r.get("status") in statuses and r.id != excluding)


def check_cap(leads: Iterable[Record], owner: str, settings: Settings, excluding: str | None = None) -> None:
    """Refuse to give a rep more open leads than ``lead.pool.max_open_per_rep``."""
    cap = read(settings, "lead.pool.max_open_per_rep")
    if not cap:
        return
    held = open_count(leads, owner, settings, excluding)
    if held >= int(cap):
        raise PolicyError(f"{owner} already holds {held} open leads (lead.pool.max_open_per_rep is {cap}); "
                          "release or convert some first")


def claim(lead_id: str, data: Data, user: str, leads: Iterable[Record], settings: Settings, at: str) -> Data:
    ensure_editable(lead_id, data)
    if data.get("owner") == user:
        raise PolicyError(f"lead {lead_id} is already yours")
    if data.get("owner"):
        raise PolicyError(f"lead {lead_id} is not in the pool: {data['owner']} owns it; ask a manager to "
                          f"`crmctl lead assign {lead_id} --to {user}`")
    check_cap(leads, user, settings)
    return set_owner(data, user, user, at, note="claimed")


def release(lead_id: str, data: Data, by: str | None, at: str, note: str = "released") -> Data:
    ensure_editable(lead_id, data)
    if not data.get("owner"):
        raise PolicyError(f"lead {lead_id} is already in the pool")
    return set_owner(data, None, by, at, note=note)


def assign(lead_id: str, data: Data, to: str, by: str | None, leads: Iterable[Record], settings: Settings, at: str) -> Data:
    ensure_editable(lead_id, data)
    if data.get("owner") == to:
        raise PolicyError(f"lead {lead_id} already belongs to {to}")
    check_cap(leads, to, settings, excluding=lead_id)
    return set_owner(data, to, by, at, note="assigned")


def qualify(lead_id: str, data: Data, by: str | None, at: str) -> Data:
    ensure_editable(lead_id, data)
    if data.get("status") == LeadStatus.QUALIFIED:
        raise PolicyError(f"lead {lead_id} is already qualified")
    return set_status(data, LeadStatus.QUALIFIED.value, by, at)


def disqualify(lead_id: str, data: Data, reason: str, by: str | None, at: str, settings: Settings) -> Data:
    ensure_editable(lead_id, data)
    reasons = settings.values("lead.disqualify_reasons")
    if reason not in reasons:
        raise ValidationError(f"--reason {reason!r} is not one of {', '.join(reasons)} (lead.disqualify_reasons in crm.yaml)")
    out = set_status(data, LeadStatus.DISQUALIFIED.value, by, at, reason=reason)
    out["disqualify_reason"] = reason
    return out


def last_touch_day(data: Data) -> _dt.date | None:
    stamp = data.get("last_touched") or data.get("created")
    return _dt.date.fromisoformat(str(stamp)[:10]) if stamp else None


def recyclable(leads: Iterable[Record], settings: Settings, today: _dt.date) -> list[Record]:
    """Owned open leads nobody touched for ``lead.pool.recycle_after_days`` days."""
    days = read(settings, "lead.pool.recycle_after_days")
    if not days:
        return []
    cutoff = today - _dt.timedelta(days=int(days))
    statuses = set(lead_open_statuses(settings))
    out = []
    for rec in leads:
        touched = last_touch_day(rec.data)
        if rec.get("owner") and rec.get("status") in statuses and not rec.get("converted") and touched and touched <= cutoff:
            out.append(rec)
    return sorted(out, key=lambda r: r.id)


def conversion(lead_id: str, data: Data, *, account: Record | None, duplicates: Callable[[Data], list[Any]], new_account: bool,
               settings: Settings) -> tuple[Data | None, Data]:
    """What converting makes: new account data (or None when linking one) and the contact's data.

    Refuses when the lead cannot be converted, or when a new account would
    probably duplicate an existing one (then ``--account`` links it);
    ``duplicates(account_data)`` gives those (``mcr.dupes.Match``, probable first).
    """
    ensure_editable(lead_id, data)
    if data.get("status") == LeadStatus.DISQUALIFIED:
        raise PolicyError(f"lead {lead_id} is disqualified ({data.get('disqualify_reason')}); "
                          f"`crmctl lead edit {lead_id} --set status=working` first if it is back in play")
    account_data: Data | None = None
    if account is None:
        company = data.get("company")
        if not company:
            raise ValidationError(f"lead {lead_id} has no company; pass --account ACCOUNT or set --company first")
        account_data = {"name": company, "owner": data.get("owner"), "industry": data.get("industry"),
                        "city": data.get("city"), "source": data.get("source"), "lifecycle": "prospect",
                        "phone": None}
        account_data = {k: v for k, v in account_data.items() if v}
        if not new_account:
            dups = [m for m in duplicates({**account_data, "phone": data.get("phone")}) if m.likely == "probable"]
            if dups:
                shown = "; ".join(f"{m.id} ({m.name}, owner {m.owner or 'none'}, same {m.on})" for m in dups[:3])
                raise PolicyError(f"{company!r} looks like an existing account: {shown}; "
                                  f"pass --account {dups[0].id} to link it, or --new-account to create one anyway")
    contact: Data = {"name": data.get("name"), "title": data.get("title"), "email": data.get("email"),
                     "phone": data.get("phone"), "owner": data.get("owner")}
    return account_data, {k: v for k, v in contact.items() if v}


def mark_converted(data: Data, links: dict[str, str], by: str | None, at: str) -> Data:
    out = set_status(data, LeadStatus.CONVERTED.value, by, at)
    out["converted"] = {k: v for k, v in links.items() if v}
    return out

"""Visits (拜访): planned and done customer visits with SOP steps and coaching."""
from __future__ import annotations

from crmctl.core.schema import Field, Schema

STATUSES = ("planned", "in_progress", "completed", "cancelled", "missed")

SCHEMA = Schema(
    type="visits", title="visit", id_kind="generated", name_field="purpose",
    columns=("id", "date", "rep", "account", "type", "status", "with"),
    fields=(
        Field("account", "ref", ref="accounts", required=True, help="Account"),
        Field("rep", "ref", ref="users", required=True, help="The rep who visits"),
        Field("with", "list", item="ref", ref="users", help="Managers on an accompanied visit (陪访)"),
        Field("type", "enum", enum_setting="visits.types", required=True, help="Visit type"),
        Field("status", "enum", enum=STATUSES, required=True, readonly=True),
        Field("date", "date", required=True, help="Planned date"),
        Field("time", help="Planned time HH:MM"),
        Field("purpose", help="Purpose"),
        Field("contacts", "list", item="ref", ref="contacts", help="Contacts met"),
        Field("opportunity", "ref", ref="opportunities", help="Opportunity"),
        Field("source", enum=("cadence", "manual"), kind="enum", help="cadence or manual"),
        Field("checkin", "map", readonly=True),
        Field("checkout", "map", readonly=True),
        Field("steps", "records", readonly=True),
        Field("outcome", "text", help="Outcome"),
        Field("next_steps", "records", help="Follow-ups: [{text, due, done}]"),
        Field("coaching", "records", readonly=True),
        Field("completed", "datetime", readonly=True),
        Field("cancelled", "map", readonly=True),
        Field("rescheduled", "records", readonly=True),  # [{from, to, at, by, reason}]: calendars bump SEQUENCE per entry
        Field("created", "datetime", readonly=True),
    ),
)

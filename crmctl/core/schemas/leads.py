"""Leads: people and companies not yet qualified (generated ids)."""
from __future__ import annotations

from crmctl.core.schema import Field, Schema

SCHEMA = Schema(
    type="leads", title="lead", id_kind="generated", name_field="name",
    columns=("id", "name", "company", "status", "owner", "source", "score"),
    fields=(
        Field("name", required=True, option=True, help="Person's name"),
        Field("company", option=True, help="Company name"),
        Field("title", option=True, help="Job title"),
        Field("email", "email", option=True, help="Email"),
        Field("phone", "phone", option=True, help="Phone"),
        Field("source", "enum", enum_setting="lead.sources", option=True, help="Lead source"),
        Field("status", "enum", enum_setting="lead.statuses", required=True, help="Lead status"),
        Field("owner", "ref", ref="users", option=True, help="Owner; none means the lead is in the pool"),
        Field("score", "int", option=True, help="Lead score"),
        Field("industry", option=True, help="Industry"),
        Field("city", option=True, help="City"),
        Field("tags", "list", help="Tags"),
        Field("notes", "text", help="Free text"),
        Field("disqualify_reason", "enum", enum_setting="lead.disqualify_reasons", readonly=True),
        Field("converted", "map", readonly=True, help="{account, contact, opportunity} after conversion"),
        Field("last_touched", "datetime", readonly=True),
        Field("ext_id", help="Id in another system"),
        Field("source_status", help="Its status in the system it was imported from (e.g. Salesforce's \"Closed - Converted\")"),
        Field("history", "records", readonly=True),
        Field("created", "datetime", readonly=True),
    ),
)

"""Opportunities (商机): deals moving through the pipeline (generated ids)."""
from __future__ import annotations

from crmctl.core.schema import Field, Schema
from crmctl.core.states import opp_needs_account

SCHEMA = Schema(
    type="opportunities", title="opportunity", id_kind="generated", name_field="name",
    columns=("id", "name", "account", "stage", "amount", "currency", "close_date", "owner"),
    fields=(
        Field("name", required=True, option=True, help="Deal name"),
        Field("account", "ref", ref="accounts", option=True, required_if=opp_needs_account,
              help="Account (required from stage pipeline.account_required_from on)"),
        Field("contacts", "list", item="ref", ref="contacts", help="Contacts on the deal"),
        Field("owner", "ref", ref="users", option=True, help="Owner"),
        Field("stage", "enum", enum_setting="pipeline.stages", required=True, help="Pipeline stage"),
        Field("amount", "money", option=True, help="Expected amount"),
        Field("currency", "currency", option=True, help="Currency (default: the book's)"),
        Field("close_date", "date", option=True, help="Expected close date (YYYY-MM-DD)"),
        Field("source", option=True, help="Lead source"),
        Field("lead", "ref", ref="leads", help="The lead it came from"),
        Field("product", "ref", ref="products", option=True, help="Main product"),
        Field("lost_reason", "enum", enum_setting="pipeline.lost_reasons", readonly=True),
        Field("closed_on", "date", readonly=True),
        Field("notes", "text", help="Free text"),
        Field("ext_id", help="Id in another system"),
        Field("stage_history", "records", readonly=True, help="[{from, to, at, by}]"),
        Field("created", "datetime", readonly=True),
    ),
)

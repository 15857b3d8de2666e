"""Accounts: customer companies (slug ids), with hierarchy, tier and lifecycle."""
from __future__ import annotations

from crmctl.core.schema import Field, Schema

SCHEMA = Schema(
    type="accounts", title="account", id_kind="slug", name_field="name",
    columns=("id", "name", "tier", "lifecycle", "industry", "owner", "city"),
    fields=(
        Field("name", required=True, option=True, help="Company name (Chinese or English)"),
        Field("name_en", option=True, help="English name"),
        Field("short_name", option=True, help="Short name people use"),
        Field("industry", option=True, help="Industry"),
        Field("tier", "enum", enum_setting="account.tiers", option=True, help="Tier from crm.yaml (A, B, C)"),
        Field("lifecycle", "enum", enum_setting="account.lifecycle_stages", option=True, help="Lifecycle stage"),
        Field("owner", "ref", ref="users", option=True, help="Owning user"),
        Field("team", "list", item="ref", ref="users", help="Other users on the account"),
        Field("parent", "ref", ref="accounts", option=True, help="Parent account (group)"),
        Field("phone", "phone", option=True, help="Main phone"),
        Field("email", "email", option=True, help="Main email"),
        Field("website", option=True, help="Website"),
        Field("tax_id", "taxid", option=True, help="Tax id (统一社会信用代码, VAT number...), checked for the account's country"),
        Field("tax_exempt", "text", help="Why quotes to this account carry no tax (export, reverse charge); printed"),
        Field("tax_exempt_en", "text", help="The tax_exempt reason as English documents print it"),
        Field("address", option=True, help="Street address"),
        Field("address_en", option=True, help="Street address as English documents print it"),
        Field("city", option=True, help="City"),
        Field("city_en", option=True, help="City as English documents print it"),
        Field("postcode", option=True, help="Postcode"),
        Field("country", option=True, help="Country"),
        Field("lat", "decimal", help="Latitude, for visit check-ins"),
        Field("lon", "decimal", help="Longitude, for visit check-ins"),
        Field("addresses", "records", help="More addresses: [{type, address, city, lat, lon}]"),
        Field("source", option=True, help="Where the account came from"),
        Field("tags", "list", help="Tags"),
        Field("notes", "text", help="Free text"),
        Field("ext_id", help="Id in another system"),
        Field("merged_into", "ref", ref="accounts", readonly=True),
        Field("history", "records", readonly=True),
        Field("created", "datetime", readonly=True),
    ),
)

"""Contacts: people at accounts (generated ids)."""
from __future__ import annotations

from crmctl.core.schema import Field, Schema

SCHEMA = Schema(
    type="contacts", title="contact", id_kind="generated", name_field="name",
    columns=("id", "name", "account", "title", "role", "email", "phone"),
    fields=(
        Field("name", required=True, option=True, help="Full name"),
        Field("name_en", option=True, help="Name in Latin letters"),
        Field("account", "ref", ref="accounts", required=True, option=True, help="The account the contact works for"),
        Field("title", option=True, help="Job title"),
        Field("title_en", option=True, help="Job title as English documents print it"),
        Field("job_role", option=True, help="Job role in free text (a vCard's ROLE), e.g. Head of Purchasing"),
        Field("role", "enum", enum_setting="contact.roles", option=True, help="Role in the buying committee"),
        Field("email", "email", option=True, help="Email"),
        Field("phone", "phone", option=True, help="Phone"),
        Field("mobile", "phone", option=True, help="Mobile"),
        Field("emails", "list", item="email", help="More emails, beyond the primary email"),
        Field("phones", "records", help="More phones, beyond phone and mobile: [{type: work|cell|home|fax|pager|other, number}]"),
        Field("wechat", option=True, help="WeChat id"),
        Field("reports_to", "ref", ref="contacts", option=True, help="Contact this one reports to"),
        Field("channel", "enum", enum_setting="contact.channels", option=True, help="Preferred channel"),
        Field("consent", "map", help="{email: true, phone: false, ...}"),
        Field("owner", "ref", ref="users", option=True, help="Owning user"),
        Field("tags", "list", help="Tags"),
        Field("notes", "text", help="Free text"),
        Field("ext_id", help="Id in another system"),
        Field("uid", help="UID of the vCard it came from; a re-import of that card updates this contact"),
        Field("merged_into", "ref", ref="contacts", readonly=True),
        Field("history", "records", readonly=True),
        Field("created", "datetime", readonly=True),
    ),
)

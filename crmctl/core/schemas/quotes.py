"""Quotes: versioned, priced offers for an opportunity (generated ids)."""
from __future__ import annotations

from crmctl.core.schema import Field, Schema

STATUSES = ("draft", "pending_approval", "approved", "rejected", "sent", "accepted", "declined", "expired")

SCHEMA = Schema(
    type="quotes", title="quote", id_kind="generated", name_field="title",
    columns=("id", "number", "version", "account", "status", "currency", "total", "valid_until"),
    instead=(("tax_treatment", "a quote's tax treatment is its exemption, which also takes the tax off: "
                               "`crmctl quote edit Q --tax-exempt REASON` (tax_exempt: REASON; the account's applies too)"),),
    fields=(
        Field("title", help="Title on the document"),
        Field("number", readonly=True, number=True, help="Document number, given when sent"),
        Field("version", "int", readonly=True),
        Field("opportunity", "ref", ref="opportunities", help="Opportunity"),
        Field("account", "ref", ref="accounts", required=True, help="Account"),
        Field("contact", "ref", ref="contacts", help="Contact"),
        Field("owner", "ref", ref="users", help="Owner"),
        Field("status", "enum", enum=STATUSES, required=True, readonly=True),
        Field("currency", "currency", required=True, help="Currency"),
        Field("pricebook", "ref", ref="pricebooks", help="Price book"),
        Field("date", "date", help="Quote date"),
        Field("valid_until", "date", help="Valid until"),
        Field("lang", "enum", enum=("zh-CN", "en"), help="Document language"),
        Field("lines", "records", help="Quote lines"),
        Field("discount", "percent", help="Quote-level discount in percent"),
        Field("fees", "records", amounts=("amount",), help="Extra fees: [{name, amount}]"),
        Field("payment_terms", "text", help="Payment terms"),
        Field("notes", "text", help="Notes"),
        Field("tax_exempt", "text", help="Why this quote carries no tax (zero-rated export, reverse charge); printed"),
        Field("tax_exempt_en", "text", help="The tax_exempt reason as an English document prints it"),
        Field("payment_terms_en", "text", help="Payment terms as an English document prints them"),
        Field("notes_en", "text", help="Notes as an English document prints them"),
        Field("title_en", help="Title as an English document prints it"),
        Field("groups_en", "map", help="Line group names in English documents: {加工中心: Machining centres}"),
        Field("incoterms", help="Incoterms 2020 rule and place, printed on the document (FOB Shanghai, CIF Hamburg, EXW)"),
        Field("totals", "map", readonly=True),
        Field("approval", "map", readonly=True),
        Field("approvals", "records", readonly=True),
        Field("versions", "records", readonly=True),
        Field("status_history", "records", readonly=True),
        Field("total", "money", readonly=True),
        Field("sent_at", "datetime", readonly=True, help="When it was sent"),
        Field("as_sent", "map", readonly=True,
              help="What the document printed from outside the quote when it was sent (seller, buyer, contact, "
                   "owner, English units and group names, printed unit prices); re-renders print these"),
        Field("decline_reason", "text", readonly=True, help="Why the customer declined"),
        Field("order", "ref", ref="orders", readonly=True, help="The order made when it was accepted"),
        Field("created", "datetime", readonly=True),
    ),
)

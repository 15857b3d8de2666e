"""Users: the sales team (slug ids)."""
from __future__ import annotations

from crmctl.core.schema import Field, Schema

SCHEMA = Schema(
    type="users", title="user", id_kind="slug", name_field="name",
    columns=("id", "name", "email", "role", "manager", "territory"),
    fields=(
        Field("name", required=True, option=True, help="Full name"),
        Field("name_en", option=True, help="Name in Latin letters"),
        Field("email", "email", required=True, option=True, help="Work email (matched against git's user.email)"),
        Field("role", "enum", required=True, enum_setting="roles", option=True, help="rep, manager, director or admin"),
        Field("manager", "ref", ref="users", option=True, help="The user's manager"),
        Field("territory", option=True, help="Sales territory or region"),
        Field("team", option=True, help="Team name"),
        Field("phone", "phone", option=True, help="Phone number"),
        Field("active", "bool", help="false for people who left"),
        # signing keys prove who approved a quote (policy.signed_approvals; crmctl/core/signing.py)
        Field("signing_keys", "list", item="sshkey", help="SSH public keys the user signs commits with: ['ssh-ed25519 AAAA... me@laptop']"),
        Field("gpg_keys", "list", item="gpgkey", help="OpenPGP key fingerprints (40 hex digits), if the user signs with GPG"),
        Field("git_handle", "handle", option=True, help="The user's name on the git host, for CODEOWNERS: @name"),
        Field("quotas", "records", help="[{period: 2026-Q4, amount: '500000', visits: 40}]"),
        Field("created", "datetime", readonly=True),
    ),
)

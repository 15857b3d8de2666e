"""``crmctl account``: accounts (MCR)."""
from __future__ import annotations

from crmctl.cli.records import record_group
from crmctl.mcr.rules import account_rule

cli = record_group("accounts", "Accounts: customer companies, their hierarchy, tier and lifecycle (MCR).", rule=account_rule)
cli.name = "account"

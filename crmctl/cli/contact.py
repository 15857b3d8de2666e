"""``crmctl contact``: contacts (MCR)."""
from __future__ import annotations

from crmctl.cli.records import record_group
from crmctl.mcr.rules import contact_rule

cli = record_group("contacts", "Contacts: people at accounts and their role in the buying committee (MCR).", rule=contact_rule)
cli.name = "contact"

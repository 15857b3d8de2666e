"""``crmctl user``: the sales team."""
from __future__ import annotations

from crmctl.cli.records import record_group
from crmctl.sfe.team import user_rule

cli = record_group("users", "Users: the sales team, their roles and managers.", rule=user_rule)
cli.name = "user"

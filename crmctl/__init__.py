"""crmctl: a sales-management toolkit for teams who keep their CRM in git."""
from __future__ import annotations

__version__ = "0.1.0"

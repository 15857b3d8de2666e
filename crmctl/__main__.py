"""Allow ``python -m crmctl``."""
from __future__ import annotations

from crmctl.cli import main

main()

"""Import and export (CSV, JSON, NDJSON, vCard, iCalendar) and rendering (Jinja2 + WeasyPrint)."""

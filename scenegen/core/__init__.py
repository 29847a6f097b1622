"""The base layer every stage may use: user-facing errors, atomic file output and JSON field validation."""

"""How runs and processes execute: Dagster overrides (threaded executor, warm run launcher, pooled
SQLite storage), run cancellation, the one runner of PR-controlled commands (``prcommand.py``), the
production profile's instance settings and the shared tables' state store, and small process, git
and SQLite helpers."""

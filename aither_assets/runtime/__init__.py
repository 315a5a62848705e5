"""How runs and processes execute: Dagster overrides (threaded executor, warm run launcher, pooled
SQLite storage), run cancellation, the one runner of PR-controlled commands (``prcommand.py``), and
small process, git and SQLite helpers."""

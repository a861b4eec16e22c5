"""The process register (docs/register.md): products, threat-model reviews, assurance (ITHC / pen test),
major changes, security issues, risks, waivers and recorded scans, every change kept in an
append-only history. Nothing is deleted: records are retired or closed.

Storage (`database.py`): SQLAlchemy 2 models (`models.py`) and Alembic migrations
(`migrations/`), applied when the register is opened; a SQLite file by default, PostgreSQL for a
team. `Database.write(actor, fn)` and `Database.read(fn)` run `fn(tx)` in one transaction.

The functions the commands, the scan and the dashboard call, one module per entity, each taking
that `tx`: `products`, `records` (threat models, assurance, major changes), `issues`, `risks`,
`waivers`, `scans`, `due_list`, `history`, `scan_context` (what the scan reads about a
repository) and `csv_io` (risk export and import). How records read for people (the tables, the
report to Security) is presentation, with the other renderers in secposture/reports/
(`register_text`, `issue_report`).

The pure pieces need no database: `severity` (CVE ids, CVSS scores, patch-by dates) and `due`
(due dates). Nothing heavy is imported here.
"""

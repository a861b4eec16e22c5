"""Watching the estate as Allstar does (issue 15 §2, ADR 0019, docs/watching.md).

GitHub App webhooks (webhook.py) become rescan jobs in the register's own database (queue.py);
a worker (worker.py) runs each job through the same batched fetch plan as `scan --org`,
records it as `scan --record` does, and keeps one issue per drifting repository
(repository_issue.py). The dashboard shows the last rescan of each repository and why, and every
write to GitHub.
"""

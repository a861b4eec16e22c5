"""Delivering a security issue to the Security team (issue 15 §1, ADR 0018).

`interface` is the small contract (Channel, Outgoing, DeliveryResult, DeliveryError); one module
per channel: `email` (SMTP with STARTTLS or implicit TLS), `chat` (Slack and Teams webhooks),
`github_issue` (an issue in the team's private repository). `config` reads which channels the
environment configures; `send` delivers and records each confirmed delivery in the register.
"""

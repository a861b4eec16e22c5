"""`secposture issue send`: deliver an issue's report to the Security team over the channels the
environment configures (docs/sending-issues.md), and record each delivery in the register."""

from __future__ import annotations

from typing import Any

import click

from secposture.cli.common import (
    EXIT_FAILING,
    actor_name,
    echo,
    error,
    errors_as_input,
    format_option,
)
from secposture.cli.register.common import COMMON_EPILOG, print_text, register_options

CHANNEL_NAMES = ("email", "slack", "teams", "github")


@click.command("send", epilog=COMMON_EPILOG)
@click.argument("issue_id", type=click.IntRange(min=1), metavar="ID")
@click.option(
    "--channel",
    "channels",
    multiple=True,
    type=click.Choice(CHANNEL_NAMES),
    help="Send over this channel only (repeat for several) [default: every configured one].",
)
@format_option()
@register_options
@errors_as_input
def issue_send(
    issue_id: int, channels: tuple[str, ...], fmt: str, db: str | None, actor: str | None
) -> None:
    """Send an issue's report to the Security team, and record that it was sent.

    Channels come from the environment: email ($SECPOSTURE_SMTP_HOST and
    $SECPOSTURE_SECURITY_EMAIL, STARTTLS or TLS), Slack ($SECPOSTURE_SLACK_WEBHOOK_URL),
    Teams ($SECPOSTURE_TEAMS_WEBHOOK_URL) and a GitHub issue in the team's private repository
    ($SECPOSTURE_SECURITY_GITHUB_REPO). Sending again after the issue was edited sends an
    update. Only a delivery the channel confirmed is recorded; a failure says what failed
    (exit 1) and changes nothing.

    \b
    Examples:
      secposture issue send 3
      secposture issue send 3 --channel email --channel github
    """
    from secposture.register.database import Database
    from secposture.register.delivery.config import channels_from_env
    from secposture.register.delivery.send import send_issue

    chosen = channels_from_env(channels)  # every channel checked before anything is sent
    who = actor_name(actor)
    with Database.open(db, create=False) as database:
        outcome = send_issue(database, who, issue_id, chosen)
    if fmt == "json":
        from secposture.reports import register_text as render

        values: dict[str, Any] = {
            "delivered": outcome.delivered,
            "failed": [
                {"channel": f.channel, "kind": f.kind, "detail": f.detail} for f in outcome.failed
            ],
            "not_recorded": [
                {
                    "channel": u.result.channel,
                    "destination": u.result.destination,
                    "problem": u.problem,
                }
                for u in outcome.unrecorded
            ],
        }
        print_text(render.as_json(values))
    else:
        for sent in outcome.delivered:
            echo(_sent_line(issue_id, sent), nl=True)
    for failure in outcome.failed:
        error(str(failure))
    for unrecorded in outcome.unrecorded:
        error(
            f"{unrecorded.result.channel}: delivered to {unrecorded.result.destination} but the "
            f"register could not record it ({unrecorded.problem}): record it by hand"
        )
    if not outcome.ok:
        raise SystemExit(EXIT_FAILING)


def _sent_line(issue_id: int, sent: dict[str, Any]) -> str:
    from secposture.reports.common import clean

    what = "an update of issue" if sent["update"] else "issue"
    where = sent.get("url") or sent.get("reference") or ""
    tail = f": {where}" if where else ""
    return clean(
        f"Sent {what} {issue_id} (version {sent['issue_version']}) over {sent['channel']} "
        f"to {sent['destination']}{tail}"
    )

"""What the three command-line tools share: times, the server option."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click

from placecode.crypto import Error
from placecode.crypto import constants as c


class TimeError(Error):
    """A time option that is not an ISO time."""


def parse_time(text: str | None) -> int:
    """Unix seconds of an ISO time (``2026-11-25T14:00Z``); now when ``None``.

    A time without a zone is local time, as a person would mean it.
    """
    if text is None:
        return int(time.time())
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise TimeError(f"{text!r} is not a time like 2026-11-25T14:00Z") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    seconds = int(moment.timestamp())
    _warn_if_far(seconds, int(time.time()))
    return seconds


def _warn_if_far(seconds: int, now: int) -> None:
    """Says so when a time given lies far outside the 14 days the apps keep and publish."""
    days = (now - seconds) / 86400
    if days > c.RETENTION_DAYS:
        click.echo(
            f"Note: {format_time(seconds)} is {days:.0f} days ago, outside the "
            f"{c.RETENTION_DAYS}-day window: visits that old are deleted, and no warning "
            "can reach them.",
            err=True,
        )
    elif -days > 1:
        click.echo(
            f"Note: {format_time(seconds)} is {-days:.0f} days ahead: check the date.", err=True
        )


def format_time(seconds: int, *, date: bool = True) -> str:
    """A time for people: local date and time with the zone's name."""
    moment = datetime.fromtimestamp(seconds, UTC).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M %Z" if date else "%H:%M")


at_option = click.option(
    "--at",
    "at",
    metavar="TIME",
    help="act at this time (ISO, like 2026-11-25T14:00Z) instead of now, to replay a scenario",
)


server_option = click.option(
    "--server",
    envvar="PLACECODE_SERVER",
    metavar="URL",
    help="the placecode service [env PLACECODE_SERVER; default http://127.0.0.1:8000]",
)
token_option = click.option(
    "--token",
    envvar="PLACECODE_TOKEN",
    metavar="TOKEN",
    help="a staff token from `placecode admin create-token` [env PLACECODE_TOKEN]",
)

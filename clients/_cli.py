"""What the three command-line tools share: times, the server option."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click

from placecode.crypto import Error


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
    return int(moment.timestamp())


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

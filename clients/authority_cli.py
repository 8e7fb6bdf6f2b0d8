"""``placecode authority``: keys, TANs, venue traces, the consent inbox, statistics."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from placecode.crypto import ConsentMessage, Error

from . import authority as lib
from ._cli import format_time, server_option, token_option
from .http import Client, ServiceError, server_url

seal_key_option = click.option(
    "--seal-key",
    "seal_key",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="the authority's offline sealing key (sealing.key)",
)


@click.group()
def authority() -> None:
    """Health authorities: keys, TANs, inbox."""


@authority.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def keygen(out: Path) -> None:
    """Generate the authority's keys (the layout of the service's key folder)."""
    files, keys = lib.generate_keys(out, os.urandom)
    click.echo(f"Authority key id {keys.public.key_id.hex()}.")
    click.echo(f"  {files.sign_key}: signing key, for the service (PLACECODE_KEY_DIR)")
    click.echo(f"  {files.seal_public}: sealing public key, for the service")
    click.echo(f"  {files.seal_key}: sealing secret: move it offline; it opens consent messages")
    click.echo(f"  {files.public}: public keys, for venue owners and apps")


@authority.command("issue-tan")
@click.option("--count", type=click.IntRange(1, 100), default=1, show_default=True)
@click.option("--valid-hours", type=click.IntRange(1, 168), default=72, show_default=True)
@server_option
@token_option
def issue_tan(count: int, valid_hours: int, server: str | None, token: str | None) -> None:
    """Issue one-time TANs for confirmed cases (shown once, stored only hashed)."""
    tans = Client(server_url(server), token).issue_tans(count, valid_hours)
    for tan, expires in tans:
        click.echo(f"{tan}  valid until {format_time(expires)}")


@authority.command("publish-trace")
@click.argument("trace", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@seal_key_option
@click.option(
    "--message-id",
    type=click.IntRange(0, 255),
    default=0,
    show_default=True,
    help="which message of the configuration the warning shows",
)
@server_option
@token_option
def publish_trace(
    trace: Path, seal_key: Path, message_id: int, server: str | None, token: str | None
) -> None:
    """Open a venue owner's sealed confirmation offline and publish its entries.

    The service remembers what it published: a trace published before is
    refused, and of a trace that overlaps earlier ones only the new venue-hours
    are published.
    """
    keys = lib.load_sealing(seal_key)
    slots, entries = lib.seal_trace_entries(
        trace.read_bytes(), keys, message_id, os.urandom, int(time.time())
    )
    if not slots:
        raise Error("this venue trace confirms no venue-hour")
    hours = sorted({s.hour for s in slots})
    digests = [lib.slot_digest(s) for s in slots]
    try:
        accepted = Client(server_url(server), token).publish_venue_entries(entries, digests)
    except ServiceError as e:
        if e.code != "already_published":
            raise
        raise Error(
            f"{trace} was published already, and nothing was published again; to publish it "
            f"anew (with another --message-id, say), first withdraw it with `placecode "
            f"authority revoke --trace {trace} --seal-key {seal_key}`"
        ) from None
    before = len(set(digests)) - accepted
    click.echo(
        f"Published {accepted} venue-confirmed entries for {len(hours)} hour(s), "
        f"{format_time(hours[0] * 3600)} to {format_time((hours[-1] + 1) * 3600)}"
        + (f"; {before} were published before and stay as they are." if before else ".")
    )


@authority.command()
@click.argument("tags", nargs=-1)
@click.option(
    "--trace",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="revoke every venue-hour of this venue trace (needs --seal-key)",
)
@click.option(
    "--seal-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="the authority's offline sealing key (sealing.key), to open --trace",
)
@server_option
@token_option
def revoke(
    tags: tuple[str, ...],
    trace: Path | None,
    seal_key: Path | None,
    server: str | None,
    token: str | None,
) -> None:
    """Withdraw published entries by tag (hex), or those of a venue trace.

    The entries leave storage, and the next bundle's header revokes the tags, so
    devices withdraw the warnings they gave.
    """
    chosen = [lib.parse_tag(t) for t in tags]
    if trace is not None:
        if seal_key is None:
            raise click.UsageError("--trace needs --seal-key to open the trace")
        chosen += lib.trace_tags(trace.read_bytes(), lib.load_sealing(seal_key))
    if not chosen:
        raise click.UsageError("name the tags to revoke, or a --trace")
    revoked = Client(server_url(server), token).revoke(sorted(set(chosen)))
    click.echo(
        f"Revoked {revoked} stored entries under {len(set(chosen))} tag(s); the next bundle "
        "tells devices to withdraw their warnings."
    )


@authority.command()
@seal_key_option
@click.option("--delete", is_flag=True, help="delete each message from the service once opened")
@server_option
@token_option
def inbox(seal_key: Path, delete: bool, server: str | None, token: str | None) -> None:
    """Open the consent inbox: contact details that warned people chose to send."""
    keys = lib.load_sealing(seal_key)
    client = Client(server_url(server), token)
    count = 0
    for page in client.consent_pages():
        count += len(page)
        _show_inbox_page(client, lib.open_inbox(page, keys), delete)
    if not count:
        click.echo("The consent inbox is empty.")
    if delete and count:
        click.echo(f"Deleted {count} message(s) from the service.")


def _show_inbox_page(
    client: Client, messages: list[tuple[int, str, ConsentMessage | None]], delete: bool
) -> None:
    for message_id, day, message in messages:
        if message is None:
            click.echo(f"#{message_id} ({day}): cannot be opened with this key (or damaged)")
            continue
        start = message.hour * 3600 + message.start_minute * 60
        end = message.hour * 3600 + message.end_minute * 60
        click.echo(
            f"#{message_id} ({day}): {message.contact!r}, exposed {format_time(start)} to "
            f"{format_time(end, date=False)} (tag {message.tag.hex()})"
        )
        if delete:
            client.delete_consent(message_id)


@authority.command()
@server_option
def stats(server: str | None) -> None:
    """Statistics of the published bundles."""
    index = Client(server_url(server)).bundle_index()
    if not index:
        click.echo("No bundles published yet.")
        return
    for b in index:
        click.echo(
            f"bundle {b.sequence:>4}  {format_time(b.created_at)}  {b.entries:>7,} entries  "
            f"{b.size:>10,} bytes  hours {format_time(b.first_hour * 3600)} to "
            f"{format_time((b.last_hour + 1) * 3600)}"
        )
    entries = sum(b.entries for b in index)
    size = sum(b.size for b in index)
    per_entry = f", {size / entries:.1f} bytes per entry" if entries else ""
    click.echo(f"{len(index)} bundle(s), {entries:,} entries, {size:,} bytes{per_entry}.")

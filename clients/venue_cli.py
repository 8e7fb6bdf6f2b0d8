"""``placecode venue``: posters, the rotating screen, outbreak confirmations."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from placecode import crypto
from placecode.crypto import Category, Error, Venue
from placecode.crypto import constants as c

from . import venue as lib
from ._cli import format_time, parse_time, server_option
from .authority import load_public
from .http import Client, server_url
from .visitor import ServiceConfig

KEY_FILE = "venue.key"
CATEGORIES = [m.name.lower().replace("_", "-") for m in Category]

key_option = click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=KEY_FILE,
    show_default=True,
    help="the venue key file made by `placecode venue create`",
)


@click.group()
def venue() -> None:
    """Venue owners: posters, screens, confirmations."""


def _show_posters(files: lib.PosterFiles) -> None:
    click.echo(f"Posters: {files.png}, {files.svg}, {files.pdf}")
    if not files.png_has_chinese:
        click.echo(
            "The PNG has English only: no font with Chinese glyphs was found (install "
            "fonts-wqy-microhei or set PLACECODE_CJK_FONT). The PDF and SVG have both.",
            err=True,
        )


@venue.command()
@click.option("--name", required=True, help=f"the venue's name (at most {c.MAX_NAME_BYTES} bytes)")
@click.option("--address", default="", help="printed on the poster, never in the code")
@click.option("--category", type=click.Choice(CATEGORIES), default="other", show_default=True)
@click.option(
    "--stay",
    type=click.IntRange(1, c.MAX_STAY_MINUTES),
    default=c.DEFAULT_STAY_MINUTES,
    show_default=True,
    help="minutes until visitors are checked out automatically",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="folder for the key file and the posters",
)
@click.option(
    "--service",
    metavar="URL",
    help="your health authority's service: the codes open its web client there",
)
def create(
    name: str, address: str, category: str, stay: int, out: Path, service: str | None
) -> None:
    """Create a venue: its secret key file and its posters (PNG, SVG, PDF)."""
    kind = Category[category.upper().replace("-", "_")]
    if not name.strip():
        raise click.BadParameter(
            "a venue needs a name, as its visitors know it", param_hint="--name"
        )
    try:
        new = Venue.generate(os.urandom(c.SECRET_BYTES), name.strip(), kind, stay)
    except Error as e:
        raise click.BadParameter(str(e), param_hint="--name") from None
    checkin_url = c.DEFAULT_CHECKIN_URL if service is None else service_checkin_url(service)
    key_path = out / KEY_FILE
    lib.save_key(new, key_path, address.strip(), checkin_url)
    files = lib.write_posters(new, out, address=address.strip(), checkin_url=checkin_url)
    click.echo(f"Created {new.name}. Its secret key is in {key_path}: keep it, never share it.")
    _show_posters(files)
    if service is None:
        click.echo(
            f"The codes open {checkin_url}, which no health authority serves: pass --service "
            "URL so that a phone's camera opens your health authority's web client.",
            err=True,
        )
    else:
        click.echo(f"The codes open {checkin_url}.")
        _show_nfc(new.poster().to_url(checkin_url))


def _show_nfc(url: str) -> None:
    click.echo(f"For an NFC sticker beside the poster, write this URL to it: {url}")


def service_checkin_url(service: str) -> str:
    """The check-in URL under the public URL the service's signed configuration names,
    else under the URL it was reached at."""
    payload, signature = Client(server_url(service)).config()
    config = ServiceConfig.parse(payload)
    try:
        # unpinned, as for a confirmation: this catches a damaged document, not an impostor
        crypto.verify_config(payload, signature, config.authority)
        return crypto.checkin_url(config.public_url or service)
    except Error as e:
        raise click.BadParameter(str(e), param_hint="--service") from None


@venue.command()
@key_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--generation",
    type=click.IntRange(0, 2**32 - 1),
    default=0,
    show_default=True,
    help="a new generation prints a new code (after a photo of the old one went round)",
)
def poster(key_path: Path, out: Path, generation: int) -> None:
    """Print the venue's posters again, or a new generation of them."""
    key = lib.read_key(key_path)
    _show_posters(lib.write_posters(key.venue, out, generation, key.address, key.checkin_url))
    _show_nfc(key.venue.poster(generation).to_url(key.checkin_url))


@venue.command()
@key_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
def screen(key_path: Path, host: str, port: int) -> None:
    """Show a rotating code on a screen at the door: a local web page."""
    key = lib.read_key(key_path)
    owned = key.venue
    server = lib.screen_server(owned, host, port, lambda: int(time.time()), key.checkin_url)
    click.echo(
        f"Showing {owned.name}'s rotating code at http://{host}:{server.server_address[1]}/ "
        "(open it full-screen; Ctrl-C stops)."
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.server_close()


@venue.command()
@key_option
@click.option("--from", "start", required=True, metavar="TIME", help="start of the window (ISO)")
@click.option("--to", "end", required=True, metavar="TIME", help="end of the window (ISO)")
@click.option(
    "--authority",
    "authority_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="the authority's public key file; otherwise read from the service",
)
@server_option
@click.option(
    "--generations",
    default="0",
    show_default=True,
    help="poster generations in use during the window, comma-separated",
)
@click.option("--no-screen", is_flag=True, help="the venue had no rotating screen")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default="confirmation.sealed",
    show_default=True,
)
def confirm(
    key_path: Path,
    start: str,
    end: str,
    authority_file: Path | None,
    server: str | None,
    generations: str,
    no_screen: bool,
    out: Path,
) -> None:
    """Confirm an outbreak window for the health authority, sealed to it."""
    owned, _ = lib.load_key(key_path)
    begin, finish = parse_time(start), parse_time(end)
    if finish <= begin:
        raise click.BadParameter("the window must end after it starts", param_hint="--to")
    try:
        posters = tuple(int(g) for g in generations.split(",") if g.strip())
    except ValueError:
        raise click.BadParameter("comma-separated numbers", param_hint="--generations") from None
    if authority_file is not None:
        authority = load_public(authority_file)
    else:
        # unpinned: the owner checks the key id with the authority before handing it over
        payload, _signature = Client(server_url(server)).config()
        authority = ServiceConfig.parse(payload).authority
    count, sealed = lib.confirmation(
        owned, begin, finish, authority, posters=posters, screen=not no_screen
    )
    out.write_bytes(sealed)
    click.echo(
        f"Confirmed {owned.name} from {format_time(begin)} to {format_time(finish)}: "
        f"{count} venue-hour codes, sealed to the authority with key id "
        f"{authority.key_id.hex()} in {out}."
    )
    click.echo("Check that key id with your health authority, then give them the file.")

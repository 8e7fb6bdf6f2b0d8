"""``placecode visit``: check in and out, keep the diary, sync, report, consent."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Never, TypeVar

import click
from tqdm import tqdm

from placecode.crypto import Category, DecodeError, EvidenceLevel, VenueCode
from placecode.crypto import constants as c

from . import qr, visitor
from ._cli import at_option, format_time, parse_time, server_option
from .http import Client, server_url
from .visitor import LEVEL_LABELS, Diary, DiaryError, StoredVisit, StoredWarning
from .visitor.diary import uses_key_file


@dataclass
class Settings:
    directory: Path
    #: --passphrase: ask for the passphrase on the terminal
    ask: bool
    passphrase_file: Path | None

    def passphrase(self) -> str | None:
        """The diary's passphrase: from a file or PLACECODE_PASSPHRASE (for scripts), or asked.

        Never from the command line, where other users of the machine can read it.
        """
        given = self.ask or self.passphrase_file is not None
        env = os.environ.get("PLACECODE_PASSPHRASE")
        if (given or env is not None) and (self.directory / visitor.KEY_FILE).exists():
            raise DiaryError(uses_key_file(self.directory))
        if self.passphrase_file is not None:
            try:
                text = self.passphrase_file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                raise DiaryError(f"cannot read the passphrase file: {e}") from None
            return text.splitlines()[0] if text else ""
        if env is not None:
            return env
        protected = (self.directory / visitor.SALT_FILE).exists()
        if self.ask or (protected and sys.stdin.isatty()):
            new = not protected and not (self.directory / visitor.DIARY_FILE).exists()
            answer: str = click.prompt(
                "Passphrase of the diary" if not new else "Choose a passphrase for the diary",
                hide_input=True,
                confirmation_prompt=new,
                err=True,
            )
            return answer
        return None

    def open(self, now: int) -> Diary:
        diary = Diary.open(self.directory, passphrase=self.passphrase())
        closed = diary.expire(now)
        if closed is not None:
            click.echo(
                f"Checked out of {closed.visit.name} automatically at "
                f"{format_time(closed.visit.left_at)}, the end of its default stay."
            )
        diary.purge(now)
        return diary


pass_settings = click.make_pass_decorator(Settings)


@click.group()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="PLACECODE_HOME",
    help="where the encrypted diary lives [env PLACECODE_HOME; default: the user data folder]",
)
@click.option(
    "--passphrase",
    "ask",
    is_flag=True,
    help="protect the diary with a passphrase instead of a key file: you are asked for it "
    "(scripts: --passphrase-file or env PLACECODE_PASSPHRASE)",
)
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="read the diary's passphrase from the first line of this file",
)
@click.pass_context
def visit(
    ctx: click.Context, data_dir: Path | None, ask: bool, passphrase_file: Path | None
) -> None:
    """Visitors: check in, sync, report, contact."""
    ctx.obj = Settings(data_dir or visitor.default_directory(), ask, passphrase_file)


def _read_code(photo: Path | None, url: str | None) -> VenueCode:
    if (photo is None) == (url is None):
        raise DecodeError("give a photo of the venue's QR code or its --url text")
    if photo is not None:
        return qr.read_file(photo)
    assert url is not None
    return VenueCode.from_url(url)


F = TypeVar("F", bound=Callable[..., object])


def _with_code(f: F) -> F:
    """The code to use: a photo of it, or its text."""
    f = click.option("--url", metavar="TEXT", help="the code's text instead of a photo")(f)
    return click.argument("photo", required=False, type=click.Path(dir_okay=False, path_type=Path))(
        f
    )


def _category(value: int) -> str:
    try:
        return Category(value).name.replace("_", " ").lower()
    except ValueError:
        return "venue"


def _show_check_in(result: visitor.CheckInResult, now: int) -> None:
    if result.closed is not None:
        click.echo(
            f"Checked out of {result.closed.visit.name} at "
            f"{format_time(result.closed.visit.left_at)}."
        )
    state = result.check_in
    code = state.code
    click.echo(f"Checked in at {code.name} ({_category(code.category)}) at {format_time(now)}.")
    number = state.verification_code(now)
    if number is not None:
        click.echo(
            f"Verification code: {number}: the venue's screen shows the same digits; a "
            "different code means a copied QR code."
        )
    click.echo(
        f"You will be checked out automatically at {format_time(state.auto_checkout_at)}; "
        "scan the code again when you leave."
    )


def _show_visit(stored: StoredVisit, verb: str = "Checked out of") -> None:
    v = stored.visit
    click.echo(
        f"{verb} {v.name}: {format_time(v.entered_at)} to {format_time(v.left_at, date=False)} "
        f"(visit #{stored.id})."
    )


@visit.command("check-in")
@_with_code
@at_option
@pass_settings
def check_in_cmd(settings: Settings, photo: Path | None, url: str | None, at: str | None) -> None:
    """Check in from a photo of the venue's QR code (or its --url text)."""
    now = parse_time(at)
    code = _read_code(photo, url)
    diary = settings.open(now)
    result = diary.check_in(code, now)
    diary.save()
    _show_check_in(result, now)


@visit.command()
@_with_code
@at_option
@pass_settings
def scan(settings: Settings, photo: Path | None, url: str | None, at: str | None) -> None:
    """Scan a code: check in, or check out when it is the code you checked in with."""
    now = parse_time(at)
    code = _read_code(photo, url)
    diary = settings.open(now)
    result = diary.scan(code, now)
    diary.save()
    if result.checked_out is not None:
        _show_visit(result.checked_out)
    elif result.checked_in is not None:
        _show_check_in(result.checked_in, now)


@visit.command("check-out")
@_with_code
@at_option
@pass_settings
def check_out_cmd(settings: Settings, photo: Path | None, url: str | None, at: str | None) -> None:
    """Check out; rescanning the venue's screen proves when you left."""
    now = parse_time(at)
    code = _read_code(photo, url) if photo or url else None
    diary = settings.open(now)
    stored = diary.check_out(now, code)
    diary.save()
    _show_visit(stored)


@visit.command()
@at_option
@pass_settings
def status(settings: Settings, at: str | None) -> None:
    """Where you are checked in, with the live verification code."""
    now = parse_time(at)
    diary = settings.open(now)
    diary.save()
    state = diary.checked_in
    if state is None:
        click.echo("You are not checked in anywhere.")
        return
    click.echo(f"Checked in at {state.code.name} since {format_time(state.entered_at)}.")
    if state.code.kind == c.KIND_SCREEN:
        number = state.verification_code(now)
        if number is None:
            click.echo(
                "No verification code: the code you scanned is over 90 seconds old. Scan the "
                "screen again to show the guard its current code."
            )
        else:
            click.echo(f"Verification code: {number} (the screen's code when you scanned it)")
    click.echo(f"Automatic check-out at {format_time(state.auto_checkout_at)}.")


@visit.command("list")
@at_option
@pass_settings
def list_cmd(settings: Settings, at: str | None) -> None:
    """Your diary: the visits of the last 14 days, kept on this device only."""
    now = parse_time(at)
    diary = settings.open(now)
    diary.save()
    state = diary.checked_in
    warned = {w.visit_id for w in diary.warnings}
    visits = diary.visits
    if state is None and not visits:
        click.echo("Your diary is empty.")
        return
    for stored in visits:
        v = stored.visit
        mark = "  WARNING" if stored.id in warned else ""
        kind = "screen" if v.kind == c.KIND_SCREEN else "poster"
        click.echo(
            f"#{stored.id:<4} {format_time(v.entered_at)} to {format_time(v.left_at, date=False)}"
            f"  {v.name} ({kind}){mark}"
        )
    if state is not None:
        click.echo(f"now   since {format_time(state.entered_at)}  {state.code.name} (checked in)")
    click.echo(f"Visits older than {diary.retention_days} days are deleted automatically.")


@visit.command()
@click.argument("visit_id", type=int)
@at_option
@pass_settings
def delete(settings: Settings, visit_id: int, at: str | None) -> None:
    """Delete one visit from your diary."""
    diary = settings.open(parse_time(at))
    stored = diary.delete(visit_id)
    diary.save()
    _show_visit(stored, "Deleted the visit to")


def _level(level: int) -> str:
    return LEVEL_LABELS.get(EvidenceLevel(level), str(level))


def _show_warning(w: StoredWarning) -> None:
    click.echo(
        f"WARNING #{w.id}: {w.venue}, {format_time(w.entered_at)} to "
        f"{format_time(w.left_at, date=False)}: {w.overlap_minutes} minutes shared with a "
        "confirmed case."
    )
    click.echo(f"  evidence: {_level(w.level)}")
    if w.message:
        click.echo(f"  from your health authority: {w.message}")
    if w.contacted_at is not None:
        click.echo(f"  you sent your contact details on {format_time(w.contacted_at)}")
    else:
        click.echo(
            f"  to be contacted by the health authority: placecode visit contact {w.id} "
            "--details 'PHONE OR E-MAIL'"
        )


class _Bar:
    """A progress bar that appears only when a download takes a while."""

    def __init__(self) -> None:
        self.bar: tqdm[Never] | None = None

    def __call__(self, done: int, total: int) -> None:
        bar = self.bar
        if bar is None:
            bar = self.bar = tqdm(
                total=total, unit="B", unit_scale=True, delay=1.0, leave=False, file=sys.stderr
            )
        bar.update(done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@visit.command()
@server_option
@click.option(
    "--authority-key",
    metavar="HEX",
    help="pin this authority signing key instead of trusting the service's on first use",
)
@click.option(
    "--dummy-probability",
    type=click.FloatRange(0, 1),
    default=lambda: float(
        os.environ.get("PLACECODE_DUMMY_PROBABILITY", visitor.DEFAULT_DUMMY_PROBABILITY)
    ),
    show_default="0.3",
    help="chance of a dummy upload with each sync, so nobody can tell who reported "
    "[env PLACECODE_DUMMY_PROBABILITY]",
)
@click.option("--refetch", is_flag=True, help="forget the stored bundles and download all again")
@click.option(
    "--full-bundles",
    is_flag=True,
    help="download every new bundle whole instead of its compact index and a few shards "
    "(more bytes, and the service sees no shard fetches at all)",
)
@at_option
@pass_settings
def sync(
    settings: Settings,
    server: str | None,
    authority_key: str | None,
    dummy_probability: float,
    refetch: bool,
    full_bundles: bool,
    at: str | None,
) -> None:
    """Download what is new (each bundle's compact index and a few of its shards, or
    with --full-bundles the whole bundles), verify it and match your visits on this
    device."""
    now = parse_time(at)
    pin = visitor.parse_pin(authority_key) if authority_key else None
    diary = settings.open(now)
    if refetch:
        diary.forget_bundles()
    bar = _Bar()
    try:
        result = visitor.sync(
            diary,
            Client(server_url(server)),
            now,
            authority_key=pin,
            dummy_probability=dummy_probability,
            progress=bar,
            full_bundles=full_bundles,
        )
    finally:
        bar.close()
    diary.save()
    if result.pinned:
        click.echo(f"Trusting health authority key {result.key_id} from now on.")
    click.echo(
        f"Kept {result.new_bundles} new bundle(s) ({result.downloaded_bytes:,} bytes "
        "downloaded), all signed by your health authority."
    )
    if result.indexed_bundles:
        click.echo(
            f"{result.indexed_bundles} of them through their compact index, with "
            f"{result.shards_fetched} shard(s) fetched: the same number whether or not "
            "your visits are among them."
        )
    if result.expired_bundles:
        click.echo(
            f"Dropped {result.expired_bundles} more signed bundle(s): all their hours are "
            f"older than {diary.retention_days} days."
        )
    for w in result.withdrawn:
        click.echo(f"Warning #{w.id} for {w.venue} was withdrawn by the health authority.")
    for w in result.new:
        _show_warning(w)
    if not result.new:
        known = len(result.warnings)
        click.echo(
            "No new warnings."
            + (f" ({known} earlier, see `placecode visit warnings`)" if known else "")
        )


@visit.command()
@at_option
@pass_settings
def warnings(settings: Settings, at: str | None) -> None:
    """The warnings found so far."""
    diary = settings.open(parse_time(at))
    diary.save()
    found = diary.warnings
    if not found:
        click.echo("No warnings: none of your visits matched a published case.")
    for w in found:
        _show_warning(w)


@visit.command()
@click.option("--tan", required=True, help="the TAN your health authority gave you")
@click.option("--yes", is_flag=True, help="send without asking for confirmation")
@server_option
@at_option
@pass_settings
def report(settings: Settings, tan: str, yes: bool, server: str | None, at: str | None) -> None:
    """After a positive test: upload your own visits so others get warned."""
    now = parse_time(at)
    tan = visitor.normalize_tan(tan)
    diary = settings.open(now)
    items = visitor.prepare_report(diary, now, os.urandom)
    request = visitor.report_request(tan, items)
    click.echo("This will be sent to the health authority's service:")
    for item in items:
        v = item.visit
        levels = sorted({int(level) for level in item.levels})
        names = ", ".join(EvidenceLevel(level).name.lower().replace("_", "-") for level in levels)
        click.echo(
            f"  {v.name}: {format_time(v.entered_at)} to {format_time(v.left_at, date=False)}, "
            f"{len(item.entries)} sealed entr{'y' if len(item.entries) == 1 else 'ies'} ({names})"
        )
    click.echo(
        f"Each entry holds an hour tag and, encrypted, the minutes you were there: only "
        "people who scanned the same code can open it. Nothing else is sent: no venue name, "
        f"no name, no phone number. The upload is {c.UPLOAD_BYTES:,} bytes, like every "
        "app's dummy uploads."
    )
    if not yes:
        click.confirm("Send these visits?", abort=True)
    # the report travels inside a sync, in the place of its dummy upload
    visitor.sync(diary, Client(server_url(server)), now, report=request)
    diary.mark_reported([item.visit_id for item in items])
    diary.save()
    entries = sum(len(i.entries) for i in items)
    sent = f"{entries} sealed entr{'y' if entries == 1 else 'ies'}"
    visits = f"{len(items)} visit{'' if len(items) == 1 else 's'}"
    click.echo(f"Sent {sent} for {visits}. Thank you for warning others.")


@visit.command()
@click.argument("warning_id", type=int)
@click.option("--details", required=True, help="how the health authority can reach you")
@click.option("--yes", is_flag=True, help="send without asking for confirmation")
@server_option
@at_option
@pass_settings
def contact(
    settings: Settings,
    warning_id: int,
    details: str,
    yes: bool,
    server: str | None,
    at: str | None,
) -> None:
    """Send your contact details, sealed to the health authority, for one warning."""
    now = parse_time(at)
    diary = settings.open(now)
    w = diary.warning(warning_id)
    click.echo(
        f"Your contact details ({details!r}) and a reference to your visit to {w.venue} will be "
        "sealed so that only the health authority can read them."
    )
    if not yes:
        click.confirm("Send them?", abort=True)
    visitor.send_contact(diary, Client(server_url(server)), warning_id, details, now)
    diary.save()
    click.echo("Sent. The health authority may contact you.")

"""``placecode demo``: the whole story on one machine, against the real service.

Three venues print posters (one also runs a rotating screen), twenty visitors
check in and out on a simulated clock two days ago, one of them tests positive
and uploads with a TAN, the restaurant's owner confirms the outbreak window,
and everyone syncs. The scenario knows who shared enough minutes with the case;
the demo fails unless exactly those people were warned.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click
from PIL import Image

from placecode.crypto import Category, Error, EvidenceLevel, SealingKey, Venue, VenueCode
from placecode.crypto import constants as c

from . import authority, qr, venue, visitor
from ._cli import format_time
from .http import Client
from .visitor import Diary


class DemoError(Error):
    """The demo could not run, or its warnings differ from the scenario's."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunningService:
    url: str
    token: str
    key_dir: Path


def _placecode(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "placecode", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise DemoError(f"`placecode {' '.join(args)}` failed: {done.stderr.strip()}")
    return done.stdout


@contextmanager
def service(directory: Path) -> Iterator[RunningService]:
    """The real service on SQLite in ``directory``, on a free loopback port."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{directory / 'service.db'}",
        "PLACECODE_KEY_DIR": str(directory / "authority"),
    }
    _placecode(["admin", "init"], env)
    token = _placecode(["admin", "create-token", "--role", "admin"], env).strip().splitlines()[-1]
    port = free_port()
    log = (directory / "service.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "placecode", "serve", "--port", str(port), "--build-every", "0"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise DemoError(
                        f"the service did not start; see {directory / 'service.log'}"
                    ) from None
                time.sleep(0.1)
        yield RunningService(url, token, directory / "authority")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def build_bundles(directory: Path) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{directory / 'service.db'}",
        "PLACECODE_KEY_DIR": str(directory / "authority"),
    }
    return _placecode(["admin", "build-bundles", "--force"], env).strip()


# --- the scenario ---------------------------------------------------------------------

#: (slug, name, category, default stay in minutes, has a rotating screen)
VENUES = (
    ("golden-dragon", "金龙餐厅 Golden Dragon", Category.RESTAURANT, 120, False),
    ("riverside-cafe", "Riverside Café", Category.CAFE, 90, False),
    ("city-gym", "City Gym", Category.GYM, 90, True),
)
#: visitor -> [(venue slug, "HH:MM" in, "HH:MM" out)]; minutes of the simulated day (UTC)
STAYS: dict[int, list[tuple[str, str, str]]] = {
    0: [("golden-dragon", "12:00", "13:30"), ("city-gym", "18:00", "19:00")],
    1: [("golden-dragon", "12:30", "13:15")],
    2: [("golden-dragon", "13:20", "14:00")],
    3: [("golden-dragon", "13:25", "14:30")],
    4: [("golden-dragon", "14:00", "15:00")],
    5: [("golden-dragon", "11:00", "12:05")],
    6: [("golden-dragon", "11:30", "12:40")],
    7: [("riverside-cafe", "12:00", "13:30")],
    8: [("riverside-cafe", "09:00", "10:00")],
    9: [("city-gym", "18:10", "18:50")],
    10: [("city-gym", "19:05", "20:00")],
    11: [("city-gym", "17:00", "18:20")],
    12: [("city-gym", "18:55", "19:30")],
    13: [("riverside-cafe", "18:00", "19:00")],
    14: [("golden-dragon", "08:00", "09:30")],
    15: [("golden-dragon", "12:00", "13:30"), ("city-gym", "18:30", "19:00")],
    16: [],
    17: [("riverside-cafe", "12:00", "12:30"), ("golden-dragon", "12:45", "13:00")],
    18: [("golden-dragon", "13:29", "13:45")],
    19: [("city-gym", "06:00", "07:00")],
}
CASE = 0
CONTACT = "+86 138 0000 0000 (visitor 1)"


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def expected_warnings(min_overlap: int) -> dict[int, set[str]]:
    """Who shared at least ``min_overlap`` minutes of a venue with the case, and where."""
    case = STAYS[CASE]
    out: dict[int, set[str]] = {}
    for person, stays in STAYS.items():
        if person == CASE:
            continue
        for slug, start, end in stays:
            shared = sum(
                max(0, min(_minutes(end), _minutes(e)) - max(_minutes(start), _minutes(s)))
                for v, s, e in case
                if v == slug
            )
            if shared >= min_overlap:
                out.setdefault(person, set()).add(slug)
    return out


class Screen:
    """A venue's rotating screen served over HTTP, on the scenario's clock."""

    def __init__(self, owned: Venue) -> None:
        self.now = 0
        self.server = venue.screen_server(owned, "127.0.0.1", 0, lambda: self.now)
        venue.serve_in_background(self.server)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def scan(self, now: int) -> VenueCode:
        """What a phone at the door reads at ``now``: the PNG decoded by zxing-cpp."""
        self.now = now
        with urllib.request.urlopen(self.url + "code.png") as response:
            return qr.read_image(Image.open(io.BytesIO(response.read())))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default="demo-out",
    show_default=True,
    help="where the venues' posters and keys go",
)
def demo(out: Path) -> None:
    """Run the end-to-end scenario on the embedded database."""
    started = time.monotonic()
    day = (int(time.time()) // 86400 - 2) * 86400
    say = click.echo
    with tempfile.TemporaryDirectory(prefix="placecode-demo-") as tmp:
        work = Path(tmp)
        say("Starting the placecode service on SQLite ...")
        with service(work) as running:
            say(f"  {running.url} (database and keys in {work})")
            client = Client(running.url, running.token)
            owned: dict[str, Venue] = {}
            posters: dict[str, VenueCode] = {}
            screens: dict[str, Screen] = {}
            say(f"Venues: posters in {out.resolve()}/")
            for slug, name, category, stay, has_screen in VENUES:
                key_path = out / slug / "venue.key"
                if key_path.exists():
                    owned[slug], _ = venue.load_key(key_path)
                else:
                    owned[slug] = Venue.generate(os.urandom(32), name, category, stay)
                    venue.save_key(owned[slug], key_path)
                files = venue.write_posters(owned[slug], out / slug)
                posters[slug] = qr.read_file(files.png)
                line = f"  {name}: {files.png.name}, {files.svg.name}, {files.pdf.name}"
                if has_screen:
                    screens[slug] = Screen(owned[slug])
                    line += f"; rotating screen at {screens[slug].url}"
                say(line)
            try:
                diaries = _visit(work, posters, screens, day)
            finally:
                for screen in screens.values():
                    screen.close()
            _report(diaries[CASE], client, day)
            say("The health authority asks Golden Dragon's owner to confirm the case's stay:")
            sealing = authority.load_sealing(running.key_dir / authority.SEAL_KEY_FILE)
            _confirm(owned["golden-dragon"], client, sealing, day)
            say(f"  {build_bundles(work)}")
            config = _sync_all(diaries, client, day)
            warned = _show_warnings(diaries)
            expected = expected_warnings(config.policy.min_overlap_minutes)
            _contact(diaries, client, sealing, day)
        got = {p: {_slug(w.venue) for w in ws} for p, ws in warned.items()}
        if got != expected:
            raise DemoError(
                f"the warnings differ from the scenario: expected {sorted(expected)}, "
                f"got {sorted(got)}"
            )
    say(
        f"Exactly the {len(expected)} visitors who shared at least "
        f"{config.policy.min_overlap_minutes} minutes with the case were warned."
    )
    took = time.monotonic() - started
    say(f"Service stopped. Posters are in {out.resolve()}/. Took {took:.1f} s.")


def _slug(name: str) -> str:
    return next(slug for slug, n, *_ in VENUES if n == name)


def _visit(
    work: Path, posters: dict[str, VenueCode], screens: dict[str, Screen], day: int
) -> dict[int, Diary]:
    click.echo(f"Twenty visitors check in and out on {format_time(day)[:10]} (simulated clock):")
    diaries = {}
    for person, stays in STAYS.items():
        diary = Diary.open(work / "visitors" / f"{person:02d}")
        for slug, start, end in stays:
            entered, left = day + _minutes(start) * 60, day + _minutes(end) * 60
            screen = screens.get(slug)
            code = screen.scan(entered) if screen else posters[slug]
            diary.scan(code, entered)
            if screen:
                diary.scan(screen.scan(left), left)
            else:
                diary.check_out(left)
        diary.save()
        diaries[person] = diary
        where = ", ".join(f"{slug} {start}-{end}" for slug, start, end in stays) or "stays home"
        role = "  (the case)" if person == CASE else ""
        click.echo(f"  visitor {person:2d}: {where}{role}")
    return diaries


def _report(diary: Diary, client: Client, day: int) -> None:
    ((tan, _),) = client.issue_tans(1, 24)
    click.echo(f"Visitor {CASE} tests positive; the health authority issues TAN {tan}.")
    now = day + 22 * 3600
    items = visitor.prepare_report(diary, now, os.urandom)
    client.upload(visitor.report_request(tan, items).to_bytes())
    diary.mark_reported([i.visit_id for i in items])
    diary.save()
    entries = sum(len(i.entries) for i in items)
    levels = sorted({level.name.lower().replace("_", "-") for i in items for level in i.levels})
    click.echo(
        f"  visitor {CASE} uploads {entries} sealed entries for {len(items)} visits "
        f"({', '.join(levels)}), in one {c.UPLOAD_BYTES:,}-byte request."
    )


def _confirm(owned: Venue, client: Client, sealing: SealingKey, day: int) -> None:
    start, end = day + _minutes("12:00") * 60, day + _minutes("13:30") * 60
    public = visitor.ServiceConfig.parse(client.config()[0]).authority
    count, sealed = venue.confirmation(owned, start, end, public, screen=False)
    click.echo(f"  the owner seals {count} confirmed venue-hours to the authority")
    slots, entries = authority.seal_trace_entries(sealed, sealing, 0, os.urandom)
    accepted = client.publish_venue_entries(entries, [authority.slot_digest(s) for s in slots])
    click.echo(f"  the authority opens them offline and publishes {accepted} entries")


def _sync_all(diaries: dict[int, Diary], client: Client, day: int) -> visitor.ServiceConfig:
    now = day + 23 * 3600
    dummies = 0
    for diary in diaries.values():
        result = visitor.sync(diary, client, now)
        dummies += result.dummy_sent
        diary.save()
    config = next(iter(diaries.values())).config
    assert config is not None
    click.echo(
        f"Everyone syncs: {len(diaries)} devices verify the bundles and match locally; "
        f"{dummies} of them also sent a dummy upload."
    )
    return config


def _show_warnings(diaries: dict[int, Diary]) -> dict[int, list[visitor.StoredWarning]]:
    warned = {p: d.warnings for p, d in diaries.items() if d.warnings}
    click.echo("Warnings:")
    for person, warnings in warned.items():
        for w in warnings:
            level = visitor.LEVEL_LABELS[EvidenceLevel(w.level)].split(":")[0]
            click.echo(
                f"  visitor {person:2d}: {w.venue}, {format_time(w.entered_at, date=False)}-"
                f"{format_time(w.left_at, date=False)}, {w.overlap_minutes} min shared, {level}"
            )
    quiet = [p for p in diaries if p not in warned]
    click.echo(f"  not warned: visitors {', '.join(str(p) for p in quiet)}")
    return warned


def _contact(diaries: dict[int, Diary], client: Client, sealing: SealingKey, day: int) -> None:
    diary = diaries[1]
    warning = diary.warnings[0]
    visitor.send_contact(diary, client, warning.id, CONTACT, day + 23 * 3600)
    diary.save()
    click.echo("Visitor 1 sends contact details, sealed to the health authority.")
    opened = authority.open_inbox(client.consent_inbox(), sealing)
    for message_id, _day, message in opened:
        assert message is not None
        click.echo(f"  the authority opens consent #{message_id} offline: {message.contact!r}")

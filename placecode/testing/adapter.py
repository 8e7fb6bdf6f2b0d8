"""How the stateful test drives a system: a small interface, and placecode behind it.

``Adapter`` is everything the machine in ``machine.py`` asks of a
system. Every action happens at the simulated time last given to
``advance``; venues and visitors are named by their index in the model; an
action the system refuses raises ``Refused``. To run the machine against
another implementation, write a class with these methods and subclass the
machine::

    class MyMachine(SystemMachine):
        adapter = MyAdapter

    TestMine = MyMachine.TestCase

``PlacecodeAdapter`` is the reference: the real service (Flask, SQLAlchemy on
SQLite) behind a werkzeug server on a loopback port in this process, reached
through the real HTTP client (``placecode.clients.http.Client``); visitors are real
encrypted ``Diary`` objects on disk; venues and the authority use the real
client libraries. One service serves the whole test session: each adapter
empties its tables and resets its clock.
"""

from __future__ import annotations

import atexit
import dataclasses
import datetime as dt
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import delete, func, insert, inspect, select, text
from werkzeug.serving import make_server

from placecode import crypto
from placecode.clients import authority
from placecode.clients import venue as venue_lib
from placecode.clients import visitor as visitor_app
from placecode.clients.http import Client
from placecode.clients.visitor import Diary
from placecode.crypto import Category, Venue, VenueCode
from placecode.crypto import constants as c
from placecode.service import admin, create_app
from placecode.service.config import Settings, defaults
from placecode.service.context import state
from placecode.service.db import make_engine, upgrade
from placecode.service.keys import init_keys
from placecode.service.logs import QuietRequestHandler
from placecode.service.models import Base, Bundle, ConsentMessage, Entry, StaffToken, Tan
from placecode.service.staff import token_hash

from . import model


class Refused(Exception):
    """The system refused an action; the message says why."""


@dataclass(frozen=True)
class DiaryView:
    """What a visitor's device holds, as (venue name, kind, entered, left, proofs kept).

    ``kind`` is 1 for a poster and 2 for a screen; the stay in progress has no
    ``left``.
    """

    current: tuple[str, int, int, int] | None
    stays: tuple[tuple[str, int, int, int, int], ...]


class Adapter(Protocol):
    """A system under test, driven the way its users drive it.

    The machine makes one per test case with ``adapter(policy, now)``: a fresh
    system under ``policy`` whose clock reads ``now``.
    """

    def create_venue(self, index: int, venue: model.Venue, secret: bytes) -> None: ...

    def create_visitor(self, index: int, name: str) -> None: ...

    def advance(self, now: int) -> None: ...

    def check_in(self, visitor: int, venue: int, poster: bool, shown_at: int) -> None:
        """Scan-to-check-in the venue's poster, or its screen's code as shown at ``shown_at``."""

    def check_out(self, visitor: int) -> None:
        """The check-out button (no code scanned)."""

    def rescan(self, visitor: int, venue: int, poster: bool) -> None:
        """Scan the venue's code as shown now: the code of the stay checks out."""

    def reopen(self, visitor: int) -> None:
        """The visitor's app restarts: the diary comes back from storage."""

    def issue_tan(self, valid_hours: int) -> str: ...

    def report(self, visitor: int, tan: str) -> None:
        """A case uploads their stays with a TAN (typed in any form)."""

    def confirm_venue(self, venue: int, start: int, end: int) -> int:
        """The owner confirms [start, end); the authority publishes it. Returns the
        entries published; slots published before are skipped, and ``Refused`` when
        all of them were."""

    def build_bundles(self, force: bool) -> tuple[int, int] | None:
        """(sequence, entries in it, decoys included) of a bundle published now, if any."""

    def sync(self, visitor: int, dummy: bool) -> None:
        """Download, verify and match; ``dummy`` sends a dummy upload too."""

    def warned(self, visitor: int) -> frozenset[model.Warning]: ...

    def diary(self, visitor: int) -> DiaryView: ...

    def contact(self, visitor: int, warning: model.Warning, details: str) -> None: ...

    def inbox(self) -> list[str]:
        """The contact details of every consent message held, opened by the authority."""

    def purge(self) -> None:
        """The service's retention purge, and every device's."""

    def stored(self) -> model.Stored: ...

    def database_dump(self) -> Iterator[tuple[str, str, object]]:
        """(table, column, value) of every value in every table of the service's database."""

    def key_material(self) -> set[bytes]:
        """Every code key, venue public key, venue secret and entry key in play."""

    def close(self) -> None: ...


# --- the reference adapter ----------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> float:
        return self.now


class _Service:
    """The service on SQLite behind a loopback HTTP server, for the whole session."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="placecode-system-"))
        self.key_dir = self.directory / "authority"
        init_keys(self.key_dir)
        url = f"sqlite:///{self.directory / 'service.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        self.clock = Clock()
        self.app = create_app(
            {
                **defaults(),
                "DATABASE_URL": url,
                "KEY_DIR": str(self.key_dir),
                "CLOCK": self.clock,
                "UPLOAD_FLOOR_MS": 0,
            }
        )
        self.server = make_server(
            "127.0.0.1", 0, self.app, threaded=True, request_handler=QuietRequestHandler
        )
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.sealing = authority.load_sealing(self.key_dir / authority.SEAL_KEY_FILE)
        with self.app.app_context():
            self.public = state().keys.public
            self.engine = state().engine

    def reset(self, policy: model.Policy, now: int) -> str:
        """Empties every table and applies ``policy``; returns a new admin token."""
        with self.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(delete(table))
        token = secrets.token_urlsafe(16)
        with self.engine.begin() as connection:
            connection.execute(
                insert(StaffToken).values(hash=token_hash(token), role="admin", label="system")
            )
        applied = {
            "WARN_LEVELS": tuple(sorted(policy.warn_levels)),
            "MIN_OVERLAP_MINUTES": policy.min_overlap_minutes,
            "MIN_BUNDLE_ENTRIES": policy.min_bundle_entries,
            "BUNDLE_DEADLINE_HOURS": policy.bundle_deadline_hours,
            "TAN_RATE_PER_HOUR": policy.tan_rate_per_hour,
            "RETENTION_DAYS": policy.retention_days,
        }
        self.app.config.update(applied)
        held = self.app.extensions["placecode"]
        settings = Settings.of({**self.app.config, **applied})
        self.app.extensions["placecode"] = dataclasses.replace(held, settings=settings)
        self.clock.now = now
        return token

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        self.engine.dispose()
        shutil.rmtree(self.directory, ignore_errors=True)


_service: _Service | None = None


def shared_service() -> _Service:
    global _service
    if _service is None:
        _service = _Service()
        atexit.register(_service.close)
    return _service


class PlacecodeAdapter:
    """placecode itself: the service over HTTP, real diaries, the venue and authority tools."""

    def __init__(self, policy: model.Policy, now: int) -> None:
        self.service = shared_service()
        token = self.service.reset(policy, now)
        self.now = now
        self.public = Client(self.service.url)
        self.staff = Client(self.service.url, token)
        self.home = Path(tempfile.mkdtemp(prefix="placecode-diaries-"))
        self.venues: list[tuple[Venue, bool]] = []
        self.diaries: list[Diary] = []
        self.keys: set[bytes] = set()

    def close(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def create_venue(self, index: int, venue: model.Venue, secret: bytes) -> None:
        assert index == len(self.venues)
        owned = Venue.generate(secret, venue.name, Category.RESTAURANT, venue.stay_minutes)
        self.venues.append((owned, venue.screen))
        poster = owned.poster()
        self.keys |= {secret, poster.code_key, poster.venue_public_key}

    def create_visitor(self, index: int, name: str) -> None:
        assert index == len(self.diaries)
        self.diaries.append(Diary.open(self.home / name))

    def advance(self, now: int) -> None:
        self.now = now
        self.service.clock.now = now

    # --- visitors -----------------------------------------------------------------------

    def _code(self, venue: int, poster: bool, shown_at: int) -> VenueCode:
        """What the phone's camera reads: the QR text of the poster or of the screen."""
        owned, screen = self.venues[venue]
        code = owned.poster() if poster or not screen else owned.screen(shown_at)
        self.keys |= {code.code_key, code.venue_public_key}
        return VenueCode.from_url(code.to_url())

    def _diary(self, visitor: int) -> Diary:
        diary = self.diaries[visitor]
        diary.expire(self.now)
        return diary

    def check_in(self, visitor: int, venue: int, poster: bool, shown_at: int) -> None:
        diary = self._diary(visitor)
        try:
            diary.check_in(self._code(venue, poster, shown_at), self.now)
        except crypto.Error as e:
            raise Refused(str(e)) from None
        finally:
            diary.save()

    def check_out(self, visitor: int) -> None:
        diary = self._diary(visitor)
        try:
            diary.check_out(self.now)
        except crypto.Error as e:
            raise Refused(str(e)) from None
        finally:
            diary.save()

    def rescan(self, visitor: int, venue: int, poster: bool) -> None:
        diary = self._diary(visitor)
        try:
            diary.scan(self._code(venue, poster, self.now), self.now)
        except crypto.Error as e:
            raise Refused(str(e)) from None
        finally:
            diary.save()

    def reopen(self, visitor: int) -> None:
        self.diaries[visitor] = Diary.open(self.diaries[visitor].directory)

    def sync(self, visitor: int, dummy: bool) -> None:
        diary = self._diary(visitor)
        try:
            probability = 1.0 if dummy else 0.0
            visitor_app.sync(diary, self.public, self.now, dummy_probability=probability)
        except crypto.Error as e:
            raise Refused(str(e)) from None
        finally:
            diary.save()

    def report(self, visitor: int, tan: str) -> None:
        """As ``placecode visit report``: the upload travels inside a sync, and the diary
        is saved only when it went through."""
        diary = self._diary(visitor)
        try:
            items = visitor_app.prepare_report(diary, self.now, os.urandom)
            request = visitor_app.report_request(visitor_app.normalize_tan(tan), items)
            visitor_app.sync(diary, self.public, self.now, report=request)
        except crypto.Error as e:
            self.reopen(visitor)
            self._diary(visitor).save()
            raise Refused(str(e)) from None
        diary.mark_reported([item.visit_id for item in items])
        diary.save()

    def warned(self, visitor: int) -> frozenset[model.Warning]:
        return frozenset(
            model.Warning(w.venue, w.entered_at, w.left_at, w.overlap_minutes, w.level)
            for w in self.diaries[visitor].warnings
        )

    def diary(self, visitor: int) -> DiaryView:
        diary = self.diaries[visitor]
        current = diary.checked_in
        stays = []
        for stored in diary.visits:
            v = stored.visit
            self.keys |= {s.key for s in v.slots}
            stays.append((v.name, v.kind, v.entered_at, v.left_at, len(v.proofs)))
        return DiaryView(
            None
            if current is None
            else (current.code.name, current.code.kind, current.entered_at, len(current.proofs)),
            tuple(stays),
        )

    def contact(self, visitor: int, warning: model.Warning, details: str) -> None:
        diary = self.diaries[visitor]
        (found,) = [
            w.id
            for w in diary.warnings
            if (w.venue, w.entered_at) == (warning.venue, warning.entered_at)
        ]
        try:
            visitor_app.send_contact(diary, self.public, found, details, self.now)
        except crypto.Error as e:
            raise Refused(str(e)) from None
        finally:
            diary.save()

    # --- the authority and venue owners ----------------------------------------------------

    def issue_tan(self, valid_hours: int) -> str:
        try:
            ((tan, _expires),) = self.staff.issue_tans(1, valid_hours)
        except crypto.Error as e:
            raise Refused(str(e)) from None
        return tan

    def confirm_venue(self, venue: int, start: int, end: int) -> int:
        owned, screen = self.venues[venue]
        _count, sealed = venue_lib.confirmation(
            owned, start, end, self.service.public, posters=(0,), screen=screen
        )
        slots, entries = authority.seal_trace_entries(sealed, self.service.sealing, 0, os.urandom)
        self.keys |= {s.key for s in slots}
        for day in range(start // 86400 - 1, end // 86400 + 1):
            keys = owned.code_keys(c.KIND_SCREEN, day)
            self.keys |= {keys.code_key, keys.public_key}
        try:
            return self.staff.publish_venue_entries(
                entries, [authority.slot_digest(s) for s in slots]
            )
        except crypto.Error as e:
            raise Refused(str(e)) from None

    def build_bundles(self, force: bool) -> tuple[int, int] | None:
        built = admin.build_bundles(self.service.app.config, force=force)
        return None if built is None else (built.sequence, built.entries)

    def inbox(self) -> list[str]:
        opened = authority.open_inbox(self.staff.consent_inbox(), self.service.sealing)
        return [message.contact if message else "<cannot be opened>" for _, _, message in opened]

    def purge(self) -> None:
        admin.purge(self.service.app.config)
        for diary in self.diaries:
            diary.purge(self.now)
            diary.save()

    # --- what is stored ----------------------------------------------------------------------

    def stored(self) -> model.Stored:
        def count(table: Any) -> int:
            return int(connection.scalar(select(func.count()).select_from(table)) or 0)

        def day(date: dt.date | None) -> int | None:
            return None if date is None else (date - dt.date(1970, 1, 1)).days

        with self.service.engine.connect() as connection:
            sequences = connection.scalars(select(Bundle.sequence).order_by(Bundle.sequence))
            return model.Stored(
                count(Entry),
                tuple(sequences),
                count(Tan),
                count(ConsentMessage),
                day(connection.scalar(select(func.min(Entry.received_day)))),
                connection.scalar(select(func.min(Bundle.created_at))),
                connection.scalar(select(func.min(Tan.expires_at))),
                day(connection.scalar(select(func.min(ConsentMessage.received_day)))),
            )

    def database_dump(self) -> Iterator[tuple[str, str, object]]:
        with self.service.engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                result = connection.execute(text(f'SELECT * FROM "{table}"'))
                columns = list(result.keys())
                for row in result:
                    for column, value in zip(columns, row, strict=True):
                        yield table, column, value

    def key_material(self) -> set[bytes]:
        for index in range(len(self.diaries)):
            self.diary(index)
        return set(self.keys)

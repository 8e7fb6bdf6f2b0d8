"""The web client against a hostile server or CDN (issue 10, items 9 and 10): the
bundle index is not signed, so what it says may not make the phone drop a genuine
bundle, skip one, download without bound or wait forever. The CLI's counterparts
are in tests/clients/test_sync.py."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from placecode import crypto
from placecode.clients.http import Client
from placecode.service import admin

from .conftest import PHONE, Service, start_service
from .test_browser import CAFE, T0, open_code

#: the app's limits (clients/web/src/app/sync.ts)
MAX_BUNDLE_BYTES = 32 * 1024 * 1024
SYNC_SECONDS = 600
INDEX = re.compile(r".*/v1/bundles(\?.*)?$")
BUNDLE = re.compile(r".*/v1/bundles/\d+$")


@pytest.fixture
def fresh(tmp_path: Path, web_dist: Path) -> Iterator[Service]:
    """A service of its own: these tests count the bundles a phone fetches."""
    running = start_service(tmp_path, web_dist)
    yield running
    running.stop()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, locale="en-GB", timezone_id="UTC")
    context.clock.install(time=T0)
    yield context
    context.close()


def publish(service: Service, venue: crypto.Venue = CAFE) -> None:
    """A case who was at ``venue`` from T0 for 30 minutes reports; a bundle is built."""
    client = Client(service.url, admin.create_token(service.settings, "admin"))
    visit = crypto.check_in(venue.poster(), T0).check_out(T0 + 1800)
    entries = tuple(crypto.report_entries(visit, os.urandom))
    client.upload(crypto.UploadRequest(client.issue_tans()[0][0], entries).to_bytes())
    assert admin.build_bundles(service.settings, force=True) is not None


def rewrite_index(change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> Any:
    def handler(route: Any) -> None:
        doc = json.loads(route.fetch().body())
        doc["bundles"] = change(doc["bundles"])
        route.fulfill(json=doc)

    return handler


def sync(page: Any) -> str:
    page.evaluate("document.getElementById('notice')?.replaceChildren()")
    page.click("#sync-button")
    page.wait_for_selector("#notice:not(:empty)")
    return str(page.text_content("#notice"))


def visited(service: Service, phone: Any) -> Any:
    page = open_code(phone, CAFE.poster().to_url(service.checkin_url))
    phone.clock.fast_forward(30 * 60_000)
    page.click("#check-out")
    page.wait_for_selector("#notice:text('Checked out of')")
    return page


def test_unsigned_index_hours_do_not_purge_a_genuine_bundle(fresh: Service, phone: Any) -> None:
    """The index says the bundle's hours ended long ago (``last_hour = 0``): the phone
    keeps it by its signed header, and warns, now and at the next sync."""
    page = visited(fresh, phone)
    publish(fresh)

    def ancient(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**row, "first_hour": 0, "last_hour": 0} for row in rows]

    page.route(INDEX, rewrite_index(ancient))
    assert "Checked 1 new list" in sync(page)
    assert "Riverside Café" in page.text_content("#warnings")
    page.unroute(INDEX)
    page.reload()
    assert "Checked 0 new list" in sync(page)
    assert "Riverside Café" in page.text_content("#warnings")


def test_an_index_that_skips_a_bundle_is_refused(fresh: Service, phone: Any) -> None:
    """A bundle the index hides would never be fetched once a later one is kept."""
    page = visited(fresh, phone)
    publish(fresh, crypto.Venue(os.urandom(32), "Elsewhere"))
    assert "Checked 1 new list" in sync(page)
    publish(fresh)  # the one that warns
    publish(fresh, crypto.Venue(os.urandom(32), "Elsewhere"))

    def hide_the_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        first = min(row["sequence"] for row in rows)
        return [row for row in rows if row["sequence"] != first]

    page.route(INDEX, rewrite_index(hide_the_first))
    assert "skips a list this phone needs: nothing was kept" in sync(page)
    page.unroute(INDEX)
    assert "Checked 2 new list" in sync(page)
    assert "Riverside Café" in page.text_content("#warnings")


def test_a_bundle_larger_than_declared_is_refused(fresh: Service, phone: Any) -> None:
    """Declared above the cap, it is not downloaded at all; longer than declared, it
    is cut off; either way nothing is kept and the genuine bundle comes later."""
    page = visited(fresh, phone)
    publish(fresh)
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if BUNDLE.match(r.url) else None)

    def huge(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**row, "size": MAX_BUNDLE_BYTES + 1} for row in rows]

    page.route(INDEX, rewrite_index(huge))
    assert "larger than it declared or than a list can be" in sync(page)
    assert fetched == []
    page.unroute(INDEX)

    def short(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**row, "size": row["size"] - 1} for row in rows]

    page.route(INDEX, rewrite_index(short))
    assert "larger than it declared or than a list can be" in sync(page)
    page.unroute(INDEX)
    assert "Checked 1 new list" in sync(page)
    assert "Riverside Café" in page.text_content("#warnings")


def test_a_bundle_that_never_arrives_ends_at_the_sync_deadline(fresh: Service, phone: Any) -> None:
    page = visited(fresh, phone)
    publish(fresh)
    held: list[Any] = []
    page.route(BUNDLE, lambda route: held.append(route))  # never answered: it never ends
    page.evaluate("document.getElementById('notice')?.replaceChildren()")
    page.click("#sync-button")
    for _ in range(100):  # until the download is under way
        if held:
            break
        page.wait_for_timeout(50)
    assert held
    phone.clock.fast_forward((SYNC_SECONDS + 1) * 1000)
    page.wait_for_selector("#notice:not(:empty)")
    assert "took too long to download: nothing was kept" in page.text_content("#notice")
    page.unroute(BUNDLE)  # (the page itself gave up the held request)
    assert "Checked 1 new list" in sync(page)
    assert "Riverside Café" in page.text_content("#warnings")

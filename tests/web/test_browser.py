"""A visitor with a phone: the web client in headless Chromium against the real service.

Each test opens venue-code URLs as a phone's camera would, and checks what the
page shows, what the service received and what an attacker could not do.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from placecode import crypto
from placecode.clients.http import Client
from placecode.crypto import Category, Venue
from placecode.crypto import constants as c
from placecode.service import admin

from .conftest import PHONE, WEB, Service, screenshot, start_service

CAFE = Venue(bytes(range(32)), "Riverside Café", Category.CAFE, 90)
BAR = Venue(bytes(range(1, 33)), "金龙酒吧 Golden Bar", Category.BAR, 240)
#: the page's clock: 2026-11-25 10:00:05 UTC (five seconds into a screen epoch)
T0 = 1795600805


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A fresh browser profile on a small screen, its clock at T0, in English."""
    context = browser.new_context(viewport=PHONE, locale="en-GB", timezone_id="UTC")
    context.clock.install(time=T0)
    yield context
    context.close()


def open_code(context: Any, url: str) -> Any:
    """Opens a code's URL as a camera app would, in the tab the profile has open."""
    page = context.pages[0] if context.pages else context.new_page()
    # a URL that differs only in its fragment does not reload the page: clear the last notice
    page.evaluate("document.getElementById('notice')?.replaceChildren()")
    page.goto(url)
    page.wait_for_selector("#notice:not(:empty)")
    return page


def staff(service: Service) -> Client:
    return Client(service.url, admin.create_token(service.settings, "admin"))


def test_poster_check_in_and_check_out_by_rescanning_a_screen(service: Service, phone: Any) -> None:
    poster = CAFE.poster().to_url(service.checkin_url)
    assert poster.startswith(service.checkin_url + "#")
    page = open_code(phone, poster)
    assert page.text_content("#venue-name") == "Riverside Café"
    assert "Checked in at Riverside Café" in page.text_content("#notice")
    # a poster has no live verification number (protocol §6): only a screen's proof gives one
    shown = (page.text_content("#verification-code") or "").replace(" ", "")
    assert not shown
    assert "Automatic check-out at 11:30" in page.text_content("#auto-checkout")
    # the code key does not linger in the address bar or the history
    assert "#" not in page.url
    page.click("[aria-label='One person more']")
    page.wait_for_selector("#people:text('2 people')")
    page.select_option("#reminder", "30")
    screenshot(page, "checked-in")

    phone.clock.fast_forward(31 * 60_000)
    page.wait_for_selector("#notice:text('Still at Riverside Café')")

    # the bar's screen: checking in there ends the café's stay
    bar = BAR.screen(T0 + 31 * 60)
    page = open_code(phone, bar.to_url(service.checkin_url))
    assert page.text_content("#venue-name") == "金龙酒吧 Golden Bar"
    # at a screen, the live verification number is the screen's own, from its proof
    assert bar.proof is not None
    shown = page.text_content("#verification-code").replace(" ", "")
    assert shown == crypto.verification_code(bar.bound_key, bar.proof)
    assert "Checked out of Riverside Café" in page.text_content("#notice")
    phone.clock.fast_forward(20 * 60_000)
    rescan = BAR.screen(T0 + 51 * 60).to_url(service.checkin_url)
    page = open_code(phone, rescan)
    assert "Checked out of 金龙酒吧 Golden Bar: 10:31 to 10:51" in page.text_content("#notice")
    assert page.text_content("#stay h2") == "You are not checked in."
    visits = page.locator("#visits li").all_text_contents()
    assert len(visits) == 2 and "Golden Bar" in visits[0] and "2 people" in visits[1]
    screenshot(page, "visits")

    page.click("[aria-label='Delete the visit to Riverside Café']")
    page.wait_for_selector("#notice:text('Deleted the visit to Riverside Café')")
    assert page.locator("#visits li").count() == 1
    page.reload()
    page.wait_for_selector("#visits li")
    assert page.locator("#visits li").count() == 1


def test_nothing_readable_is_stored_outside_the_encrypted_diary(
    service: Service, phone: Any
) -> None:
    page = open_code(phone, CAFE.poster().to_url(service.checkin_url))
    found = page.evaluate(
        """async () => {
          const db = await new Promise((ok, no) => {
            const r = indexedDB.open("placecode"); r.onsuccess = () => ok(r.result); r.onerror = no;
          });
          const get = (store, key) => new Promise((ok, no) => {
            const r = db.transaction(store).objectStore(store).get(key);
            r.onsuccess = () => ok(r.result); r.onerror = no;
          });
          const key = await get("keys", "diary-key");
          const sealed = await get("diary", "diary");
          let exported = "refused";
          try { await crypto.subtle.exportKey("raw", key); exported = "exported"; } catch {}
          const bytes = new Uint8Array(sealed.ciphertext);
          return {
            extractable: key.extractable, exported,
            stored: new TextDecoder("latin1").decode(bytes),
            local: JSON.stringify(localStorage), cookies: document.cookie,
          };
        }"""
    )
    assert found["extractable"] is False and found["exported"] == "refused"
    assert "Riverside" not in found["stored"] and "venue" not in found["stored"]
    assert found["local"] == "{}" and found["cookies"] == ""


def test_the_stored_diary_size_does_not_count_visits(service: Service, phone: Any) -> None:
    """The encrypted diary grew about 400 bytes a visit; padded, one visit and four
    look alike (the CLI's counterpart: tests/clients/test_visitor.py)."""
    sizes = []
    for visit in range(4):
        venue = (CAFE, BAR)[visit % 2]
        page = open_code(phone, venue.poster().to_url(service.checkin_url))
        phone.clock.fast_forward(30 * 60_000)
        page.click("#check-out")
        page.wait_for_selector("#notice:text('Checked out of')")
        phone.clock.fast_forward(30 * 60_000)
        sizes.append(
            page.evaluate(
                """async () => {
                  const db = await new Promise((ok, no) => {
                    const r = indexedDB.open("placecode");
                    r.onsuccess = () => ok(r.result); r.onerror = no;
                  });
                  const sealed = await new Promise((ok, no) => {
                    const r = db.transaction("diary").objectStore("diary").get("diary");
                    r.onsuccess = () => ok(r.result); r.onerror = no;
                  });
                  return sealed.ciphertext.byteLength;
                }"""
            )
        )
    assert page.locator("#visits li").count() == 4
    assert sizes == [64 * 1024 + 16] * 4  # the smallest bucket and the GCM tag


def test_a_case_reports_another_phone_is_warned_and_asks_to_be_contacted(
    service: Service, browser: Any
) -> None:
    case = browser.new_context(viewport=PHONE, locale="en-GB", timezone_id="UTC")
    other = browser.new_context(viewport=PHONE, locale="en-GB", timezone_id="UTC")
    try:
        poster = BAR.poster().to_url(service.checkin_url)
        for context in (case, other):
            context.clock.install(time=T0)
            open_code(context, poster)
            context.clock.fast_forward(45 * 60_000)
            context.pages[0].click("#check-out")
            context.pages[0].wait_for_selector("#notice:text('Checked out of')")

        tan = staff(service).issue_tans()[0][0]
        page = case.pages[0]
        page.fill("#tan", tan.lower().replace("-", " "))
        page.click("#report-prepare")
        page.wait_for_selector("#report-review")
        assert "金龙酒吧 Golden Bar" in page.text_content("#report-review")
        screenshot(page, "report-review")
        page.click("#report-send")
        page.wait_for_selector("#notice:text('Sent. Thank you')")
        assert "reported" in page.text_content("#visits li")
        # the TAN was redeemed: the same report again is refused
        page.fill("#tan", tan)
        page.click("#report-prepare")
        page.click("#report-send")
        page.wait_for_selector("#notice.error:text('this TAN is unknown, used or expired')")

        built = admin.build_bundles(service.settings, force=True)
        assert built is not None
        page = other.pages[0]
        page.click("#sync-button")
        page.wait_for_selector("#warnings")
        warning = page.text_content("#warnings")
        # 10:00:05 to 10:45:05, widened to whole minutes
        assert "46 minutes shared with a confirmed case" in warning
        assert "self-reported: the case's own diary" in warning
        assert "Watch for symptoms and get tested" in warning
        screenshot(page, "warning")

        details = "bob@example.org, +41 79 000 00 00"
        page.fill("input[id^=contact-]", details)
        page.click("#warnings button[type=submit]")
        page.wait_for_selector("#notice:text('The health authority may contact you')")

        inbox = list(staff(service).consent_inbox())
        assert len(inbox) == 1
        opened = crypto.open_consent(inbox[0][2], service.sealing)
        assert opened.contact == details
        tags = {slot.tag for slot in crypto.slots_for(BAR.poster().bound_key, T0, T0 + 45 * 60)}
        assert opened.tag in tags

        # the case's own phone is not warned by its own report
        case.pages[0].click("#sync-button")
        case.pages[0].wait_for_selector("#notice:text('No exposure found')")
        assert case.pages[0].locator("#warnings").count() == 0
    finally:
        case.close()
        other.close()


def test_a_stale_screen_code_is_refused_with_a_clear_message(
    service: Service, browser: Any
) -> None:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="UTC")
    try:
        context.clock.install(time=T0)
        # a photo of the screen taken five minutes ago
        stale = CAFE.screen(T0 - 300).to_url(service.checkin_url)
        page = open_code(context, stale)
        assert (
            page.text_content("#notice.error") == "此二维码已过期：请扫描场所屏幕上的实时二维码。"
        )
        assert page.text_content("#stay h2") == "您目前没有登记任何场所。"
        screenshot(page, "stale-zh")
        page.click("header button")
        page.wait_for_selector("html[lang=en]")
        assert page.text_content("#stay h2") == "You are not checked in."
        # a code signed by someone else is refused too
        forged = crypto.VenueCode(
            c.KIND_SCREEN,
            CAFE.screen(T0).code_key,
            BAR.screen(T0).venue_public_key,
            "Riverside Café",
            Category.CAFE,
            90,
            BAR.screen(T0).proof,
        )
        page = open_code(context, forged.to_url(service.checkin_url))
        assert "not signed by the venue" in page.text_content("#notice.error")
    finally:
        context.close()


def test_a_tampered_bundle_is_refused_and_the_diary_is_intact(service: Service, phone: Any) -> None:
    page = open_code(phone, CAFE.poster().to_url(service.checkin_url))
    phone.clock.fast_forward(30 * 60_000)
    page.click("#check-out")
    page.wait_for_selector("#notice:text('Checked out of')")
    page.click("#sync-button")
    page.wait_for_selector("#notice:text('new list')")
    visits_before = page.locator("#visits li").all_text_contents()

    # a new bundle, altered on its way (a compromised CDN or network)
    client = staff(service)
    elsewhere = crypto.check_in(BAR.poster(), T0).check_out(T0 + 1800)
    entries = tuple(crypto.report_entries(elsewhere, os.urandom))
    client.upload(crypto.UploadRequest(client.issue_tans()[0][0], entries).to_bytes())
    assert admin.build_bundles(service.settings, force=True) is not None

    def tamper(route: Any) -> None:
        response = route.fetch()
        body = bytearray(response.body())
        body[-70] ^= 1
        route.fulfill(response=response, body=bytes(body))

    bundles = re.compile(r".*/v1/bundles/\d+$")
    page.route(bundles, tamper)
    page.click("#sync-button")
    page.wait_for_selector("#notice.error")
    assert "failed verification" in page.text_content("#notice")
    assert "Your diary is unchanged" in page.text_content("#notice")
    screenshot(page, "tampered")
    page.unroute(bundles, tamper)
    page.reload()
    page.wait_for_selector("#visits li")
    assert page.locator("#visits li").all_text_contents() == visits_before
    # nothing of the bad bundle was kept: the genuine one is fetched next time
    page.click("#sync-button")
    page.wait_for_selector("#notice:not(:empty)")
    assert "Checked 1 new list" in page.text_content("#notice")


def test_a_venue_name_that_is_markup_renders_as_text(service: Service, phone: Any) -> None:
    name = "<img src=x onerror=alert(1)>"
    dialogs: list[str] = []
    page = phone.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(Venue(bytes(32), name).poster().to_url(service.checkin_url))
    page.wait_for_selector("#venue-name")
    assert page.text_content("#venue-name") == name
    assert page.locator("img").count() == 0 and page.locator("#app script").count() == 0
    phone.clock.fast_forward(60_000)
    page.click("#check-out")
    page.wait_for_selector("#visits li")
    assert name in page.text_content("#visits li")
    assert page.locator("img").count() == 0 and dialogs == []


def test_axe_finds_no_accessibility_violation(service: Service, phone: Any) -> None:
    axe = (WEB / "node_modules" / "axe-core" / "axe.min.js").read_text()
    page = open_code(phone, BAR.poster().to_url(service.checkin_url))

    def check(state: str) -> None:
        # evaluated through the debugging protocol: the page's CSP still forbids inline scripts
        page.evaluate(axe + "\n;undefined")
        result = page.evaluate(
            "async () => (await axe.run(document, "
            "{runOnly: ['wcag2a', 'wcag2aa', 'best-practice']}))"
            ".violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
        )
        assert result == [], f"{state}: {json.dumps(result, ensure_ascii=False)}"

    check("checked in")
    phone.clock.fast_forward(60_000)
    page.click("#check-out")
    page.wait_for_selector("#stay h2:text('You are not checked in.')")
    check("not checked in, a visit listed")
    page.fill("#tan", "ABCD-EFGH-JKMN")
    page.click("#report-prepare")
    page.wait_for_selector("#report-review")
    check("a report to review")
    page.click("header button")
    page.wait_for_selector("html[lang=zh-Hans]")
    check("in Chinese")


def test_a_check_in_works_offline_and_sync_says_it_is_offline(
    tmp_path: Path, web_dist: Path, browser: Any
) -> None:
    own = start_service(tmp_path, web_dist)
    context = browser.new_context(viewport=PHONE, locale="en-GB", timezone_id="UTC")
    try:
        page = context.new_page()
        page.goto(own.url + "/")
        # the service worker has cached the app once it controls the page
        for _ in range(100):
            if page.evaluate("navigator.serviceWorker.controller !== null"):
                break
            page.wait_for_timeout(100)
        else:
            pytest.fail("the service worker never took control of the page")
        code = CAFE.poster().to_url(own.checkin_url)
        # once cached, opening a code sends nothing: not even the page's request
        before = len(own.hits)
        page.goto(BAR.poster().to_url(own.checkin_url))
        page.wait_for_selector("#venue-name")
        # the diary counts whole seconds, and a check-in elsewhere within the bar's own
        # second would overlap the bar's visit (and is refused): let that second pass
        page.wait_for_timeout(1_100)
        assert own.hits[before:] == []
    finally:
        own.stop()
    try:
        started = time.monotonic()
        page.goto(code)
        # the same page with another fragment: the bar's name shows until the app
        # has checked in at the café
        page.wait_for_selector("#venue-name:has-text('Riverside Café')", timeout=10_000)
        assert time.monotonic() - started < 10
        assert page.text_content("#venue-name") == "Riverside Café"
        page.click("#sync-button")
        page.wait_for_selector("#notice.error")
        assert "You are offline" in page.text_content("#notice")
        assert page.text_content("#venue-name") == "Riverside Café"
    finally:
        context.close()


def test_a_long_stay_is_flagged_ends_by_itself_and_is_forgotten_after_retention(
    service: Service, phone: Any
) -> None:
    hall = Venue(bytes(range(2, 34)), "Exhibition Hall", Category.CULTURE, 720)
    page = open_code(phone, hall.poster().to_url(service.checkin_url))
    assert "Automatic check-out at 22:00" in page.text_content("#auto-checkout")
    phone.clock.fast_forward(8 * 3600_000 + 60_000)
    page.wait_for_selector("#notice.error:text('more than 8 hours')")
    phone.clock.fast_forward(4 * 3600_000)
    page.wait_for_selector("#notice:text('checked out of Exhibition Hall automatically at 22:00')")
    assert page.text_content("#stay h2") == "You are not checked in."
    assert "10:00 to 22:00" in page.text_content("#visits li")
    phone.clock.fast_forward(15 * 86400_000)
    page.reload()
    page.wait_for_selector("#visits p:text('No visits in the last 14 days.')")


def test_a_replayed_older_bundle_is_refused(service: Service, phone: Any) -> None:
    """A hostile CDN lists a new bundle but serves an older one (a rollback)."""
    client = staff(service)

    def publish() -> None:
        visit = crypto.check_in(BAR.poster(), T0).check_out(T0 + 600)
        entries = tuple(crypto.report_entries(visit, os.urandom))
        client.upload(crypto.UploadRequest(client.issue_tans()[0][0], entries).to_bytes())
        assert admin.build_bundles(service.settings, force=True) is not None

    publish()
    page = open_code(phone, CAFE.poster().to_url(service.checkin_url))
    page.click("#sync-button")
    page.wait_for_selector("#notice:text('new list')")
    publish()
    index = client.bundle_index()
    old, new = index[0], index[-1]
    old_bytes = client.bundle(old)

    def stale_index(route: Any) -> None:
        doc = json.loads(route.fetch().body())
        for row in doc["bundles"]:
            if row["sequence"] == new.sequence:
                row["sha256"], row["size"] = old.sha256, old.size
        route.fulfill(json=doc)

    page.route(re.compile(r".*/v1/bundles(\?.*)?$"), stale_index)
    page.route(re.compile(rf".*/v1/bundles/{new.sequence}$"), lambda r: r.fulfill(body=old_bytes))
    page.click("#sync-button")
    page.wait_for_selector("#notice.error")
    assert "failed verification" in page.text_content("#notice")

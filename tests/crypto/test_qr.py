"""QR size and an independent decoder: what a phone camera must read."""

from __future__ import annotations

import io

import segno
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from placecode import crypto
from placecode.crypto import constants as c
from placecode.testing import invariants as inv
from placecode.testing import strategies as s

#: Largest QR versions at error correction M (§4).
MAX_POSTER_VERSION = 10
MAX_SCREEN_VERSION = 13


def make_qr(url: str) -> segno.QRCode:
    """Three segments: prefix alphanumeric, '#' in byte mode, payload alphanumeric."""
    head, sep, payload = url.partition("#")
    assert sep and head.upper() == head
    return segno.make(
        [
            (head, segno.consts.MODE_ALPHANUMERIC),
            ("#", segno.consts.MODE_BYTE),
            (payload, segno.consts.MODE_ALPHANUMERIC),
        ],
        error="m",
        boost_error=False,
    )


def read_back(qr: segno.QRCode) -> list[str]:
    png = io.BytesIO()
    qr.save(png, kind="png", scale=4, border=4)
    png.seek(0)
    found = zxingcpp.read_barcodes(Image.open(png), formats=zxingcpp.BarcodeFormat.QRCode)
    return [r.text for r in found]


def check_qr(code: crypto.VenueCode, max_version: int) -> None:
    url = code.to_url()
    qr = make_qr(url)
    inv.note_if_testing(
        f"{len(code.name.encode())}-byte name {code.name!r}: version {qr.version}{qr.error}"
    )
    assert qr.error == "M"
    assert isinstance(qr.version, int) and qr.version <= max_version
    assert read_back(qr) == [url]
    inv.check_qr_roundtrip(crypto.VenueCode.from_url(read_back(qr)[0]))


@settings(max_examples=12)
@given(s.venues(), st.integers(0, 2**32 - 1), s.long_names)
def test_poster_fits_and_reads_back(venue: crypto.Venue, generation: int, name: str) -> None:
    poster = crypto.Venue(venue.secret, name, venue.category, venue.stay_minutes).poster(generation)
    check_qr(poster, MAX_POSTER_VERSION)


@settings(max_examples=12)
@given(s.venues(), s.times, s.long_names)
def test_screen_fits_and_reads_back(venue: crypto.Venue, now: int, name: str) -> None:
    screen = crypto.Venue(venue.secret, name, venue.category, venue.stay_minutes).screen(now)
    check_qr(screen, MAX_SCREEN_VERSION)


def test_largest_codes_at_the_version_limits() -> None:
    """Worst cases: 40 bytes of ASCII, of 2-byte, 3-byte and 4-byte characters."""
    for name in ["W" * 40, "é" * 20, "咖" * 13 + "a", "🍜" * 10]:
        assert len(name.encode()) == c.MAX_NAME_BYTES
        venue = crypto.Venue(bytes(range(32)), name, crypto.Category.CAFE, c.MAX_STAY_MINUTES)
        check_qr(venue.poster(2**32 - 1), MAX_POSTER_VERSION)
        check_qr(venue.screen(2**31), MAX_SCREEN_VERSION)

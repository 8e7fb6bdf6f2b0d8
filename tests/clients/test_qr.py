"""Posters and screens read back by an independent decoder (zxing-cpp), also degraded."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageFilter

from placecode.clients import qr, venue
from placecode.crypto import Category, DecodeError, Venue

VENUE = Venue(bytes(range(32)), "金龙餐厅 Golden Dragon", Category.RESTAURANT, 90)


@pytest.fixture(scope="module")
def poster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = venue.write_posters(VENUE, tmp_path_factory.mktemp("poster"), address="1 Main St")
    return files.png


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    out.seek(0)
    return Image.open(out)


DEGRADE = {
    "original": lambda im: im,
    "scaled to a third": lambda im: im.resize((im.width // 3, im.height // 3)),
    "rotated 17 degrees": lambda im: im.rotate(17, expand=True, fillcolor=255),
    "rotated 90 degrees": lambda im: im.rotate(90, expand=True),
    "blurred": lambda im: im.filter(ImageFilter.GaussianBlur(3)),
    "JPEG at quality 20": lambda im: _jpeg(im, 20),
    "small, blurred JPEG": lambda im: _jpeg(
        im.resize((im.width // 2, im.height // 2)).filter(ImageFilter.GaussianBlur(1.5)), 40
    ),
}


@pytest.mark.parametrize("how", DEGRADE)
def test_poster_png_reads_back(poster: Path, how: str) -> None:
    with Image.open(poster) as image:
        assert qr.read_image(DEGRADE[how](image)) == VENUE.poster()


def test_screen_code_reads_back() -> None:
    code = VENUE.screen(1_790_000_000)
    image = qr.to_image(qr.make(code), 400)
    assert qr.read_image(image) == code


def test_alphanumeric_payload_keeps_the_code_small() -> None:
    assert qr.make(VENUE.screen(1_790_000_000)).version <= 10


def test_picture_without_a_code(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("L", (300, 300), 255).save(blank)
    with pytest.raises(DecodeError, match="no QR code found"):
        qr.read_file(blank)


def test_file_that_is_not_a_picture(tmp_path: Path) -> None:
    text = tmp_path / "note.png"
    text.write_text("hello")
    with pytest.raises(DecodeError, match="not a picture"):
        qr.read_file(text)
    with pytest.raises(DecodeError, match="no such picture"):
        qr.read_file(tmp_path / "missing.png")


def test_qr_code_of_something_else(tmp_path: Path) -> None:
    import segno

    other = tmp_path / "other.png"
    segno.make("https://example.org/menu").save(other, scale=8)
    with pytest.raises(DecodeError, match="not a placecode"):
        qr.read_file(other)


#: a realistic deployment: the health authority's own host name
CHECKIN = "HTTPS://CHECKIN.HEALTH.EXAMPLE.ORG/C"
LONGEST = Venue(bytes(range(32)), "龙" * 13 + "x", Category.RESTAURANT, 90)


def test_codes_open_the_deployment_and_keep_within_their_versions() -> None:
    assert len(LONGEST.name.encode()) == 40
    poster, screen = LONGEST.poster(), LONGEST.screen(1_790_000_000)
    assert qr.make(poster, CHECKIN).version <= 10
    assert qr.make(screen, CHECKIN).version <= 13
    for code in (poster, screen):
        text = zxingcpp_text(qr.to_image(qr.make(code, CHECKIN), 600))
        assert text == code.to_url(CHECKIN) and text.startswith(CHECKIN + "#")


def test_a_check_in_url_with_lower_case_reads_back() -> None:
    checkin = "HTTPS://HEALTH.EXAMPLE.ORG/place_code/C"
    code = VENUE.screen(1_790_000_000)
    assert zxingcpp_text(qr.to_image(qr.make(code, checkin), 600)) == code.to_url(checkin)


def zxingcpp_text(image: Image.Image) -> str:
    import zxingcpp

    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)  # type: ignore[arg-type]
    assert len(found) == 1
    return str(found[0].text)


def test_the_pdf_embeds_its_fonts() -> None:
    """Regression: the PDF named Helvetica and STSong-Light without embedding them, so
    "·" showed as "�" and Latin letters were oddly spaced in readers without them."""
    import re

    cjk = venue.find_cjk_font()
    data = venue.poster_pdf(VENUE.poster(), "Zürich · 1 Main St", cjk_font=cjk)
    fonts = set(re.findall(rb"/BaseFont /([A-Za-z0-9+\-]+)", data))
    embedded = {f for f in fonts if re.fullmatch(rb"[A-Z]{6}\+.+", f)}  # subset tags
    assert {b"AAAAAA+BitstreamVeraSans-Roman", b"AAAAAA+BitstreamVeraSans-Bold"} <= embedded
    assert data.count(b"/FontFile2") == len(embedded)
    if cjk is not None:
        assert fonts == embedded  # nothing left for the reader to supply
    else:
        assert fonts - embedded == {b"STSong-Light"}

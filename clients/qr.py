"""QR codes of venue codes: rendering with segno, reading photos with zxing-cpp."""

from __future__ import annotations

from pathlib import Path

import segno
import zxingcpp
from PIL import Image, UnidentifiedImageError

from placecode.crypto import DecodeError, VenueCode
from placecode.crypto import constants as c

#: modules of white border around a code, as the QR standard asks
QUIET_ZONE = 4
#: what QR alphanumeric mode holds, at 5.5 bits a character instead of 8
ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def make(code: VenueCode, checkin_url: str = c.DEFAULT_CHECKIN_URL) -> segno.QRCode:
    """The QR code of ``code`` opening ``checkin_url``: three segments, the base32
    payload (and the check-in URL, when it is all upper case) in alphanumeric mode.
    """
    head, _, payload = code.to_url(checkin_url).partition("#")
    head_mode = (
        segno.consts.MODE_ALPHANUMERIC if set(head) <= ALPHANUMERIC else segno.consts.MODE_BYTE
    )
    # segno accepts a list of (text, mode) segments; its type hints do not say so
    return segno.make(
        [  # type: ignore[arg-type]
            (head, head_mode),
            ("#", segno.consts.MODE_BYTE),
            (payload, segno.consts.MODE_ALPHANUMERIC),
        ],
        error="m",
        boost_error=False,
    )


def modules(qr: segno.QRCode) -> list[list[bool]]:
    """The code's dark modules row by row, quiet zone included."""
    return [[bool(m) for m in row] for row in qr.matrix_iter(border=QUIET_ZONE)]


def to_image(qr: segno.QRCode, size: int) -> Image.Image:
    """A black-and-white image about ``size`` pixels wide, whole pixels per module."""
    rows = modules(qr)
    n = len(rows)
    small = Image.new("L", (n, n), 255)
    small.putdata([0 if dark else 255 for row in rows for dark in row])
    scale = max(1, size // n)
    return small.resize((n * scale, n * scale), Image.Resampling.NEAREST)


def to_svg_path(qr: segno.QRCode, x: float = 0, y: float = 0, module: float = 1) -> str:
    """An SVG path drawing the dark modules, one rectangle per horizontal run."""
    parts = []
    for r, row in enumerate(modules(qr)):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            parts.append(
                f"M{x + start * module:g} {y + r * module:g}"
                f"h{(c - start) * module:g}v{module:g}h{-(c - start) * module:g}z"
            )
    return f'<path fill="#000" d="{"".join(parts)}"/>'


def read_image(image: Image.Image) -> VenueCode:
    """The venue code in a photo; raises ``DecodeError`` with a message for a person."""
    found = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)  # type: ignore[arg-type]
    if not found:
        raise DecodeError("no QR code found in this picture: take a sharper, closer photo")
    errors = []
    for barcode in found:
        try:
            return VenueCode.from_url(barcode.text)
        except DecodeError as e:
            errors.append(e)
    raise errors[0]


def read_file(path: str | Path) -> VenueCode:
    """The venue code in a picture file (PNG, JPEG, ...)."""
    try:
        with Image.open(path) as image:
            image.load()
            return read_image(image)
    except FileNotFoundError:
        raise DecodeError(f"no such picture: {path}") from None
    except (UnidentifiedImageError, OSError):
        raise DecodeError(f"{path} is not a picture this app can read") from None

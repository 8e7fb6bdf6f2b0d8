"""Printed posters: PNG, SVG and PDF, with the code and instructions in Chinese and English."""

from __future__ import annotations

import hashlib
import html
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from placecode.crypto import Category, Venue, VenueCode
from placecode.crypto import constants as c

from .. import qr

#: the poster's instructions: a title and two lines, in Chinese and in English
TITLE_ZH = "扫码登记"
TITLE_EN = "Check in here"
LINES_ZH = (
    "用 placecode 扫描二维码登记；离开时再扫一次签出。",
    "记录只保存在您的手机上：无需姓名，无需电话。",
)
LINES_EN = (
    "Scan this code with placecode to check in; scan it again when you leave.",
    "Your visits stay on your phone: no name, no phone number.",
)

#: fonts with Chinese glyphs, tried in order for the PNG poster (Debian and common paths)
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
#: the PDF's Chinese font when no CJK font is found: PDF readers supply it from
#: their Asian font pack, and it is not embedded
PDF_CJK_FONT = "STSong-Light"
SVG_FONTS = (
    "'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei','PingFang SC',"
    "'Microsoft YaHei',sans-serif"
)


def category_label(category: int) -> str:
    try:
        return Category(category).name.replace("_", " ").lower()
    except ValueError:
        return "other"


def stay_label(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" if not rest else f"{hours} h {rest} min"


@dataclass(frozen=True)
class PosterFiles:
    png: Path
    svg: Path
    pdf: Path
    #: False when no font with Chinese glyphs was found: the PNG then has English only
    png_has_chinese: bool


def find_cjk_font() -> str | None:
    candidates = [os.environ.get("PLACECODE_CJK_FONT", ""), *CJK_FONTS]
    return next((p for p in candidates if p and Path(p).is_file()), None)


def _subtitle(code: VenueCode) -> str:
    return f"{category_label(code.category)} · default stay {stay_label(code.stay_minutes)}"


def _fit(
    draw: ImageDraw.ImageDraw, text: str, font_path: str | None, size: int, width: int
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    while True:
        font = ImageFont.truetype(font_path, size) if font_path else ImageFont.load_default(size)
        if draw.textlength(text, font=font) <= width or size <= 12:
            return font
        size -= 2


def poster_png(
    code: VenueCode,
    font_path: str | None,
    address: str = "",
    checkin_url: str = c.DEFAULT_CHECKIN_URL,
) -> Image.Image:
    """An A4 poster at 150 dpi: name, the QR code large, instructions."""
    width, height, margin = 1240, 1754, 90
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    y = margin

    def line(text: str, size: int, fill: int = 0, gap: int = 14) -> None:
        nonlocal y
        font = _fit(draw, text, font_path, size, width - 2 * margin)
        draw.text((width // 2, y), text, font=font, fill=fill, anchor="mt")
        top, bottom = font.getbbox("Hg国")[1::2]
        y += int(bottom) + gap

    line(code.name, 76, gap=18)
    if address:
        line(address, 34, fill=60, gap=8)
    line(_subtitle(code), 34, fill=90, gap=30)
    image = qr.to_image(qr.make(code, checkin_url), 1000 if not address else 940)
    page.paste(image, ((width - image.width) // 2, y))
    y += image.height + 30
    if font_path:
        line(TITLE_ZH + " · " + TITLE_EN, 56, gap=24)
        for text in LINES_ZH:
            line(text, 36)
        y += 10
    else:
        line(TITLE_EN, 56, gap=24)
    for text in LINES_EN:
        line(text, 32, fill=40)
    return page


def _svg_size(text: str, size: float, width: float) -> float:
    estimate = sum(1.0 if ord(ch) > 0x2E7F else 0.56 for ch in text) * size
    return size if estimate <= width else size * width / estimate


def poster_svg(code: VenueCode, address: str = "", checkin_url: str = c.DEFAULT_CHECKIN_URL) -> str:
    """The poster as A4 SVG in millimetres; the viewer supplies the Chinese font."""
    q = qr.make(code, checkin_url)
    n = len(qr.modules(q))
    side = 150.0
    module = side / n
    lines = [
        (code.name, 11.0, 22.0, "#000"),
        (" · ".join(filter(None, [address, _subtitle(code)])), 5.0, 31.0, "#555"),
        (TITLE_ZH + " · " + TITLE_EN, 8.0, 205.0, "#000"),
        (LINES_ZH[0], 5.0, 218.0, "#000"),
        (LINES_ZH[1], 5.0, 226.0, "#000"),
        (LINES_EN[0], 4.4, 238.0, "#333"),
        (LINES_EN[1], 4.4, 245.0, "#333"),
    ]
    texts = "\n".join(
        f'<text x="105" y="{y:g}" font-size="{_svg_size(t, s, 186):.2f}" fill="{fill}">'
        f"{html.escape(t)}</text>"
        for t, s, y, fill in lines
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" '
        'viewBox="0 0 210 297">\n'
        '<rect width="210" height="297" fill="#fff"/>\n'
        f"{qr.to_svg_path(q, (210 - side) / 2, 42, module)}\n"
        f'<g font-family="{SVG_FONTS}" text-anchor="middle">\n{texts}\n</g>\n'
        "</svg>\n"
    )


#: the PDF's fonts, embedded (as subsets) under these names
PDF_LATIN, PDF_LATIN_BOLD, PDF_CJK = "PlacecodeVera", "PlacecodeVera-Bold", "PlacecodeCJK"


def _pdf_fonts(cjk_path: str | None) -> tuple[str, Callable[[str], bool]]:
    """Registers the PDF's fonts; returns the font for Chinese and what Vera can draw.

    Latin text and "·" use Bitstream Vera, which ships with reportlab; Chinese
    uses the CJK font found, embedded too. Only without one does the PDF name
    STSong-Light, which PDF readers supply from their Asian font pack.
    """
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    registered = set(pdfmetrics.getRegisteredFontNames())
    fonts = Path(reportlab.__file__).parent / "fonts"
    if PDF_LATIN not in registered:
        pdfmetrics.registerFont(TTFont(PDF_LATIN, str(fonts / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont(PDF_LATIN_BOLD, str(fonts / "VeraBd.ttf")))
    latin = pdfmetrics.getFont(PDF_LATIN)
    covered = set(latin.face.charToGlyph)  # type: ignore[attr-defined]
    cjk = PDF_CJK_FONT
    if cjk_path is not None:
        name = f"{PDF_CJK}-{hashlib.sha256(cjk_path.encode()).hexdigest()[:8]}"
        try:
            if name not in registered:
                pdfmetrics.registerFont(TTFont(name, cjk_path, subfontIndex=0))
            cjk = name
        except (TTFError, OSError):
            pass
    if cjk == PDF_CJK_FONT and PDF_CJK_FONT not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_CJK_FONT))
    return cjk, lambda ch: ord(ch) in covered


def poster_pdf(
    code: VenueCode,
    address: str = "",
    checkin_url: str = c.DEFAULT_CHECKIN_URL,
    cjk_font: str | None = None,
) -> bytes:
    """The poster as an A4 PDF with the code drawn as vectors and its fonts embedded.

    ``cjk_font`` is a TrueType font with Chinese glyphs (``find_cjk_font()``).
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfgen.canvas import Canvas

    cjk, in_latin = _pdf_fonts(cjk_font)
    out = io.BytesIO()
    width, height = A4
    # the stubs type initialFontName as a number; reportlab takes the font's name
    pdf = Canvas(out, pagesize=A4, invariant=True, initialFontName=PDF_LATIN)  # type: ignore[arg-type]
    pdf.setTitle(f"placecode: {code.name}")

    def runs(text: str, latin: str) -> list[tuple[str, str]]:
        """The text cut into runs of one font each: Vera where it has the glyph."""
        out: list[tuple[str, str]] = []
        for ch in text:
            font = latin if in_latin(ch) else cjk
            if out and out[-1][0] == font:
                out[-1] = (font, out[-1][1] + ch)
            else:
                out.append((font, ch))
        return out

    def line(text: str, size: float, y: float, latin: str = PDF_LATIN) -> None:
        parts = runs(text, latin)
        natural = sum(pdfmetrics.stringWidth(t, f, size) for f, t in parts)
        size = min(size, size * (width - 100) / max(natural, 1))
        x = (width - sum(pdfmetrics.stringWidth(t, f, size) for f, t in parts)) / 2
        for font, part in parts:
            pdf.setFont(font, size)
            pdf.drawString(x, y, part)
            x += pdfmetrics.stringWidth(part, font, size)

    line(code.name, 32, height - 80, PDF_LATIN_BOLD)
    pdf.setFillGray(0.35)
    line(" · ".join(filter(None, [address, _subtitle(code)])), 14, height - 105)
    pdf.setFillGray(0)
    rows = qr.modules(qr.make(code, checkin_url))
    side = 420.0
    module = side / len(rows)
    left, top = (width - side) / 2, height - 130
    for r, row in enumerate(rows):
        for col, dark in enumerate(row):
            if dark:
                pdf.rect(left + col * module, top - (r + 1) * module, module, module, 0, 1)
    y = top - side - 40
    line(TITLE_ZH + " · " + TITLE_EN, 24, y)
    for i, text in enumerate(LINES_ZH):
        line(text, 14, y - 34 - 20 * i)
    pdf.setFillGray(0.2)
    for i, text in enumerate(LINES_EN):
        line(text, 12, y - 86 - 17 * i)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def write_posters(
    venue: Venue,
    directory: Path,
    generation: int = 0,
    address: str = "",
    checkin_url: str = c.DEFAULT_CHECKIN_URL,
) -> PosterFiles:
    """Writes ``poster.png``, ``poster.svg`` and ``poster.pdf`` for a poster generation."""
    code = venue.poster(generation)
    directory.mkdir(parents=True, exist_ok=True)
    font = find_cjk_font()
    files = PosterFiles(
        directory / "poster.png", directory / "poster.svg", directory / "poster.pdf", bool(font)
    )
    poster_png(code, font, address, checkin_url).save(files.png, optimize=True, dpi=(150, 150))
    files.svg.write_text(poster_svg(code, address, checkin_url), encoding="utf-8")
    files.pdf.write_bytes(poster_pdf(code, address, checkin_url, font))
    return files

"""The venue owner's tool: the venue key file, posters, the rotating screen, confirmations.

- ``keyfile``: the venue secret at rest;
- ``posters``: PNG, SVG and PDF posters;
- ``screen``: the rotating screen's page and its HTTP server;
- ``traces``: the owner's confirmation of an outbreak window.
"""

from .keyfile import VenueKeyError, VenueKeyFile, load_key, read_key, save_key
from .posters import (
    PosterFiles,
    category_label,
    find_cjk_font,
    poster_pdf,
    poster_png,
    poster_svg,
    stay_label,
    write_posters,
)
from .screen import screen_page, screen_png, screen_server, serve_in_background
from .traces import confirmation

__all__ = [
    "PosterFiles",
    "VenueKeyError",
    "VenueKeyFile",
    "category_label",
    "confirmation",
    "find_cjk_font",
    "load_key",
    "poster_pdf",
    "poster_png",
    "poster_svg",
    "read_key",
    "save_key",
    "screen_page",
    "screen_png",
    "screen_server",
    "serve_in_background",
    "stay_label",
    "write_posters",
]

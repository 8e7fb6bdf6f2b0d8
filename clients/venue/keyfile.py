"""The venue key file: the venue secret, in a file only its owner can read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from placecode.crypto import Error, Venue
from placecode.crypto import constants as c

from .._files import write_private


class VenueKeyError(Error):
    """A venue key file that is missing, unreadable or malformed."""


def save_key(
    venue: Venue, path: Path, address: str = "", checkin_url: str = c.DEFAULT_CHECKIN_URL
) -> None:
    """Writes the venue secret to a file only its owner can read; never overwrites.

    ``checkin_url`` is what the venue's codes open: its health authority's web client.
    """
    doc = {
        "placecode": "venue-key",
        "version": 1,
        "name": venue.name,
        "address": address,
        "category": venue.category,
        "stay_minutes": venue.stay_minutes,
        "secret": venue.secret.hex(),
        "checkin_url": checkin_url,
    }
    try:
        write_private(path, (json.dumps(doc, indent=2) + "\n").encode(), exclusive=True)
    except FileExistsError:
        raise VenueKeyError(
            f"{path} already exists: a venue key is never overwritten (choose another folder)"
        ) from None


@dataclass(frozen=True)
class VenueKeyFile:
    venue: Venue
    #: printed on posters, never in the code
    address: str
    #: the URL the venue's codes open (key files made before it existed: the default)
    checkin_url: str


def load_key(path: str | Path) -> tuple[Venue, str]:
    """The venue and its address (printed on posters, never in the code)."""
    key = read_key(path)
    return key.venue, key.address


def read_key(path: str | Path) -> VenueKeyFile:
    """Everything in a venue key file."""
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise VenueKeyError(
            f"no venue key at {path}: create one with `placecode venue create`"
        ) from None
    except (OSError, ValueError):
        raise VenueKeyError(f"{path} is not a placecode venue key") from None
    try:
        if doc["placecode"] != "venue-key" or doc["version"] != 1:
            raise ValueError
        venue = Venue(
            bytes.fromhex(doc["secret"]), doc["name"], int(doc["category"]), doc["stay_minutes"]
        )
        checkin_url = str(doc.get("checkin_url", c.DEFAULT_CHECKIN_URL))
        venue.poster().to_url(checkin_url)
        return VenueKeyFile(venue, str(doc.get("address", "")), checkin_url)
    except (KeyError, TypeError, ValueError, Error):
        raise VenueKeyError(f"{path} is not a placecode venue key") from None

"""The venue key file: the venue secret, in a file only its owner can read."""

from __future__ import annotations

import json
from pathlib import Path

from placecode.crypto import Error, Venue

from .._files import write_private


class VenueKeyError(Error):
    """A venue key file that is missing, unreadable or malformed."""


def save_key(venue: Venue, path: Path, address: str = "") -> None:
    """Writes the venue secret to a file only its owner can read; never overwrites."""
    doc = {
        "placecode": "venue-key",
        "version": 1,
        "name": venue.name,
        "address": address,
        "category": venue.category,
        "stay_minutes": venue.stay_minutes,
        "secret": venue.secret.hex(),
    }
    try:
        write_private(path, (json.dumps(doc, indent=2) + "\n").encode(), exclusive=True)
    except FileExistsError:
        raise VenueKeyError(
            f"{path} already exists: a venue key is never overwritten (choose another folder)"
        ) from None


def load_key(path: str | Path) -> tuple[Venue, str]:
    """The venue and its address (printed on posters, never in the code)."""
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
        return venue, str(doc.get("address", ""))
    except (KeyError, TypeError, ValueError, Error):
        raise VenueKeyError(f"{path} is not a placecode venue key") from None

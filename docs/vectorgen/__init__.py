"""The placecode/1 test vectors (``docs/test-vectors.json``), one module per spec section.

Each ``sNN_*.py`` module builds the vectors of section NN of docs/protocol.md
with a ``build(ctx)`` function; :data:`SECTIONS` runs them in order. Sections
share one deterministic random stream (see ``common.py``), so the order below
is part of the output: add a new section at the end of :data:`SECTIONS`, or
give it its own stream with ``ctx.stream(name)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import (
    s02_random,
    s03_venue,
    s04_payload,
    s05_presence,
    s06_check_in,
    s07_entries,
    s08_bundle,
    s09_authority,
    s10_consent,
    s11_trace,
    s12_matching,
    s12_rules,
    s13_upload,
    s14_config,
    s18_index,
)
from .common import Context

#: The sections in the order they draw randomness and share state.
SECTIONS: tuple[Callable[[Context], None], ...] = (
    s02_random.build,
    s09_authority.build,
    s03_venue.build,
    s05_presence.build,
    s04_payload.build,
    s06_check_in.build,
    s06_check_in.build_uploader_stays,
    s07_entries.build,
    s11_trace.build,
    s08_bundle.build,
    s12_matching.build,
    s10_consent.build,
    s13_upload.build,
    s14_config.build,
    s12_rules.build,
    s18_index.build,
)

DESCRIPTION = (
    "Test vectors for docs/protocol.md, made by docs/generate_vectors.py. "
    "Bytes are lowercase hex; times are Unix seconds (UTC), hours Unix hours, "
    "epochs 30-second Unix epochs."
)


def build_vectors() -> dict[str, Any]:
    """Every vector, as a JSON-ready dict; the same call always gives the same dict."""
    ctx = Context()
    ctx.vectors["protocol"] = "placecode/1"
    ctx.vectors["description"] = DESCRIPTION
    for section in SECTIONS:
        section(ctx)
    return ctx.vectors


def render(vectors: dict[str, Any]) -> str:
    """The committed text: sorted keys, two-space indent, UTF-8, final newline."""
    return json.dumps(vectors, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

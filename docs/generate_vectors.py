"""Builds ``docs/test-vectors.json``, the placecode/1 test vectors (see docs/protocol.md).

Run ``.venv/bin/python docs/generate_vectors.py`` (or ``make vectors``). The
output depends only on fixed inputs: every secret and nonce comes from a
deterministic generator, and the one randomness the protocol does not take as
a parameter (the sealed box's ephemeral key) is replaced by a fixed key through
libsodium's own construction, so the sealed bytes are reproducible too. The
vectors of each spec section are built by one module of ``docs/vectorgen/``.
``tests/crypto/test_vectors.py`` checks that this file's output equals the
committed JSON and replays every vector through the ``crypto`` API.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from vectorgen import build_vectors, render  # noqa: E402

OUTPUT = HERE / "test-vectors.json"

__all__ = ["OUTPUT", "build_vectors", "main", "render"]


def main() -> None:
    OUTPUT.write_text(render(build_vectors()))
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()

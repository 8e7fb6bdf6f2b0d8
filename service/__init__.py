"""placecode exposure service: the health authority's side.

It holds TAN hashes, opaque tags, ciphertexts and sealed messages, nothing
else: never who was where.
"""

from .app import create_app

__all__ = ["create_app"]

"""placecode exposure service: the health authority's side.

It holds TAN hashes, opaque tags, ciphertexts and sealed messages, nothing
else: never who was where.
"""

if __name__ != "placecode.service":
    # Importing the folder under its bare name would load a second copy of every
    # class, and shadow the distribution of that name on PyPI.
    raise ImportError(f"import placecode.service, not {__name__}")

from .app import create_app

__all__ = ["create_app"]

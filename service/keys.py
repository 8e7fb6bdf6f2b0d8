"""The authority's key files.

``signing.key`` (the Ed25519 seed) stays with the service; ``sealing.pub`` is
all the service needs of the sealing pair; ``sealing.key`` is written once by
``placecode admin init`` for the authority to move offline, and the service
never reads it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from placecode.crypto import AuthorityKeys, AuthorityPublicKeys, rules
from placecode.crypto import constants as c

from .errors import AdminError

SIGNING_KEY = rules.SIGNING_KEY_FILE
SEALING_PUBLIC = rules.SEALING_PUBLIC_FILE
SEALING_KEY = rules.SEALING_KEY_FILE
PUBLIC_KEYS = rules.PUBLIC_KEYS_FILE


@dataclass(frozen=True)
class ServiceKeys:
    """What the running service holds: the signing seed and both public keys."""

    sign_seed: bytes
    public: AuthorityPublicKeys

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.sign_seed)


def _write_secret(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def init_keys(key_dir: Path, random: Callable[[int], bytes] = os.urandom) -> bool:
    """Writes a fresh key set unless one exists; returns whether it wrote one."""
    if (key_dir / SIGNING_KEY).exists():
        return False
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, data in rules.key_files(AuthorityKeys.generate(random)).items():
        _write_secret(key_dir / name, data)
    return True


def write_public_file(key_dir: Path, public: AuthorityPublicKeys) -> Path:
    """Writes ``authority.pub.json`` if it is missing (key folders older than it); returns it."""
    path = key_dir / PUBLIC_KEYS
    if not path.exists():
        _write_secret(path, rules.key_files_public(public))
    return path


def load_keys(key_dir: Path) -> ServiceKeys:
    """Reads the signing seed and the sealing public key; never the sealing secret."""
    try:
        seed = (key_dir / SIGNING_KEY).read_bytes()
        seal_public = (key_dir / SEALING_PUBLIC).read_bytes()
    except FileNotFoundError:
        raise AdminError(
            f"no authority keys in {key_dir}: run `placecode admin init` first"
        ) from None
    if len(seed) != c.SECRET_BYTES or len(seal_public) != c.PUBLIC_KEY_BYTES:
        raise AdminError(f"the authority key files in {key_dir} are damaged")
    sign_public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    return ServiceKeys(seed, AuthorityPublicKeys(sign_public, seal_public))

"""Constants of the placecode/1 protocol.

Each constant names the section of ``docs/protocol.md`` that defines it. Labels
are domain separators: every hash, MAC, key derivation and signature in the
protocol starts its input (or its HKDF ``info``) with one of them.
"""

from typing import Final

#: §1 Versioning: the protocol version carried by every encoding.
PROTOCOL_VERSION: Final = 1
#: §1 Versioning: a QR payload whose version byte lies above this is not ours at
#: all (someone else's base32 fragment), rather than a newer placecode.
MAX_KNOWN_FUTURE_VERSION: Final = 15

#: §3 Venue keys: length of the venue secret, of code keys and entry keys.
SECRET_BYTES: Final = 32
#: §3 Venue keys: HKDF info prefix deriving a code key from the venue secret.
CODE_KEY_LABEL: Final = b"placecode/1 code"
#: §3 Venue keys: HKDF info prefix deriving an Ed25519 seed from the venue secret.
VENUE_SIGN_LABEL: Final = b"placecode/1 venue-sign"
#: §3 Venue keys: context of a printed poster's code, followed by its generation.
POSTER_CONTEXT: Final = b"poster"
#: §3 Venue keys: context of a rotating screen's code, followed by the UTC day.
DAY_CONTEXT: Final = b"day"
#: §3 Venue keys: hash prefix of a code's identifier.
CODE_ID_LABEL: Final = b"placecode/1 code-id"
#: §3 Venue keys: bytes of an Ed25519 public key and signature.
PUBLIC_KEY_BYTES: Final = 32
SIGNATURE_BYTES: Final = 64

#: §4 QR payload: the check-in URL of a code printed without a deployment's own.
DEFAULT_CHECKIN_URL: Final = "HTTPS://PLACECODE.APP/V"
#: §4 QR payload: the text before the fragment of a code with the default check-in URL.
QR_URL_PREFIX: Final = DEFAULT_CHECKIN_URL + "#"
#: §4 QR payload: the path, under a service's public URL, that opens its web client.
CHECKIN_PATH: Final = "/C"
#: §4 QR payload: kind byte of a printed poster and of a rotating screen.
KIND_POSTER: Final = 1
KIND_SCREEN: Final = 2
#: §4 QR payload: longest venue name, in UTF-8 bytes.
MAX_NAME_BYTES: Final = 40
#: §4 QR payload: the shortest payload of any version (a poster with an empty
#: name); anything shorter is someone else's fragment, whatever its first byte.
MIN_PAYLOAD_BYTES: Final = 1 + 1 + 32 + 32 + 1 + 2 + 1
#: §4 QR payload: longest default stay, in minutes (12 hours).
MAX_STAY_MINUTES: Final = 720
#: §4 QR payload: default stay when the owner names none, in minutes.
DEFAULT_STAY_MINUTES: Final = 120

#: §5 Presence proofs: length of one screen epoch, in seconds.
EPOCH_SECONDS: Final = 30
#: §5 Presence proofs: signature prefix of a presence proof.
PRESENCE_LABEL: Final = b"placecode/1 presence"
#: §5 Presence proofs: a screen code older than this is refused at check-in.
MAX_CODE_AGE_SECONDS: Final = 90
#: §5 Presence proofs: how far a screen's clock may run ahead of the device's.
MAX_CLOCK_SKEW_SECONDS: Final = 30
#: §5 Presence proofs: what a single proof (no exit rescan) covers, in seconds.
SINGLE_PROOF_SPAN_SECONDS: Final = 3600
#: §5 Presence proofs: most proofs an entry may carry (entry scan and exit rescan).
MAX_PROOFS: Final = 2

#: §6 Check-in: HKDF info prefix binding a scanned code key to the code's kind and
#: public key; every tag, entry key, code id and verification number derives from
#: the bound key.
BIND_LABEL: Final = b"placecode/1 bind"
#: §6 Check-in: HMAC prefix of an hour tag.
TAG_LABEL: Final = b"placecode/1 tag"
#: §6 Check-in: HKDF info prefix of an hour's entry key.
ENTRY_KEY_LABEL: Final = b"placecode/1 entry"
#: §6 Check-in: HMAC prefix of the live verification number of a presence proof.
VERIFY_LABEL: Final = b"placecode/1 verify"
#: §6 Check-in: bytes of an hour tag.
TAG_BYTES: Final = 16
#: §6 Check-in: digits of the live verification number.
VERIFY_DIGITS: Final = 6
#: §6 Check-in: seconds per hour slot.
HOUR_SECONDS: Final = 3600

#: §7 Exposure entries: AES-GCM nonce bytes and authentication tag bytes.
NONCE_BYTES: Final = 12
GCM_TAG_BYTES: Final = 16
#: §7 Exposure entries: signature prefix of a venue confirmation.
CONFIRM_LABEL: Final = b"placecode/1 venue-confirm"
#: §7 Exposure entries: bytes of a plaintext's fixed head (level, start, end, message).
ENTRY_HEAD_BYTES: Final = 4
#: §7 Exposure entries: shortest and longest sealed entry (tag, nonce, ciphertext).
MIN_ENTRY_BYTES: Final = TAG_BYTES + NONCE_BYTES + ENTRY_HEAD_BYTES + GCM_TAG_BYTES
MAX_ENTRY_BYTES: Final = MIN_ENTRY_BYTES + 1 + MAX_PROOFS * (4 + SIGNATURE_BYTES)

#: §8 Bundles: the four bytes every bundle starts with.
BUNDLE_MAGIC: Final = b"PCB\x01"
#: §8 Bundles: signature prefix of a bundle.
BUNDLE_LABEL: Final = b"placecode/1 bundle"
#: §8 Bundles: hash prefix of an authority key identifier.
KEY_ID_LABEL: Final = b"placecode/1 key-id"
#: §8 Bundles: bytes of an authority key identifier.
KEY_ID_BYTES: Final = 8
#: §8 Bundles: most messages in a bundle's table, and longest message in bytes.
MAX_MESSAGES: Final = 255
MAX_MESSAGE_BYTES: Final = 1024
#: §8 Bundles: most tags one bundle revokes.
MAX_REVOKED: Final = 65535

#: §10 Consent: plaintext bytes of a consent message (sealed: + 48).
CONSENT_PLAINTEXT_BYTES: Final = 464
#: §10 Consent: bytes libsodium's sealed box adds (ephemeral key + MAC).
SEALED_BOX_OVERHEAD: Final = 48
#: §10 Consent: bytes of a sealed consent message on the wire.
CONSENT_BYTES: Final = CONSENT_PLAINTEXT_BYTES + SEALED_BOX_OVERHEAD
#: §10 Consent: fixed head of the plaintext (version, tag, hour, start, end, length).
CONSENT_HEAD_BYTES: Final = 1 + TAG_BYTES + 4 + 1 + 1 + 2
#: §10 Consent: longest contact text, in UTF-8 bytes.
MAX_CONTACT_BYTES: Final = CONSENT_PLAINTEXT_BYTES - CONSENT_HEAD_BYTES

#: §11 Venue traces: bytes of one confirmed slot sent from the owner to the authority.
CONFIRMED_SLOT_BYTES: Final = TAG_BYTES + SECRET_BYTES + 4 + 1 + 1 + SIGNATURE_BYTES

#: §12 Matching: default minimum overlap, in minutes, before a device warns.
DEFAULT_MIN_OVERLAP_MINUTES: Final = 10
#: §12 Matching: days a device and the service keep anything.
RETENTION_DAYS: Final = 14

#: §13 Uploads: the four bytes every upload request starts with.
UPLOAD_MAGIC: Final = b"PCU\x01"
#: §13 Uploads: every upload request, real or dummy, is exactly this long.
UPLOAD_BYTES: Final = 65536
#: §13 Uploads: flag byte of a real upload and of a dummy one.
UPLOAD_REAL: Final = 0
UPLOAD_DUMMY: Final = 1
#: §13 Uploads: most entries under one tag in one upload (§7: an hour that the
#: presence proofs cover in part is self-reported before and after the coverage).
MAX_ENTRIES_PER_TAG: Final = 3
#: §13 Uploads: longest TAN, in ASCII characters.
MAX_TAN_CHARS: Final = 32
#: §13 Uploads: bytes before the entries (magic, flag, TAN length, TAN, count).
UPLOAD_HEAD_BYTES: Final = 4 + 1 + 1 + MAX_TAN_CHARS + 2
#: §13 Uploads: most entries one upload carries (all of the shortest kind); longer
#: entries fit fewer, as the fixed size bounds the bytes.
MAX_UPLOAD_ENTRIES: Final = (UPLOAD_BYTES - UPLOAD_HEAD_BYTES) // (1 + MIN_ENTRY_BYTES)

#: §14 Configuration: signature prefix of the authority's signed configuration.
CONFIG_LABEL: Final = b"placecode/1 config"

#: §18 Compact index and shards: the four bytes every index and every shard starts with.
INDEX_MAGIC: Final = b"PCI\x01"
SHARD_MAGIC: Final = b"PCS\x01"
#: §18 Compact index and shards: signature prefixes of an index and of a shard.
INDEX_LABEL: Final = b"placecode/1 index"
SHARD_LABEL: Final = b"placecode/1 shard"
#: §18 Compact index and shards: bytes of the tag prefix that shard boundaries name.
PREFIX_BYTES: Final = 4
#: §18 Compact index and shards: bytes of an index's salt, of its filter's seed.
SALT_BYTES: Final = 8
#: §18 Compact index and shards: the binary fuse filter's segment length is a power
#: of two between these (FastFilter's ``binary_fuse8_allocate`` caps it at 2^18).
MIN_SEGMENT_LENGTH: Final = 4
MAX_SEGMENT_LENGTH: Final = 262144
#: §18 Compact index and shards: the filter's three positions span this many segments.
FUSE_ARITY: Final = 3
#: §18 Compact index and shards: the configuration's defaults (§14) for the fewest
#: entries of a shard (k) and the shards a device fetches of every index (F).
DEFAULT_SHARD_MIN_ENTRIES: Final = 128
DEFAULT_SHARD_FETCHES: Final = 4
#: §14 Configuration: most shards the configuration may ask a device to fetch of an index.
MAX_SHARD_FETCHES: Final = 64

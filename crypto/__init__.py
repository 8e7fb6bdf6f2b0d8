"""The placecode/1 protocol: pure functions and value types, no I/O, no clock.

Time is passed in as Unix seconds (UTC) and randomness as bytes or as a
``random(n) -> bytes`` callable, so every result is reproducible. See
``docs/protocol.md`` for the byte-exact specification; section numbers in
docstrings refer to it.
"""

if __name__ != "placecode.crypto":
    # Importing the folder under its bare name would load a second copy of every
    # class, and shadow the distribution of that name on PyPI.
    raise ImportError(f"import placecode.crypto, not {__name__}")

from ._authority import (
    AuthorityKeys,
    AuthorityPublicKeys,
    ConfirmedSlot,
    ConsentMessage,
    SealingKey,
    confirm_window,
    key_id,
    open_consent,
    open_trace,
    seal_consent,
    seal_to,
    seal_trace,
)
from ._bundle import Bundle, BundleHeader, Exposure, Policy, match, sign_bundle, union_length
from ._decoys import decoy_entries, tag_groups
from ._entry import (
    EntryContent,
    EvidenceLevel,
    RandomBytes,
    confirm_message,
    evidence_holds,
    open_entry,
    proof_coverage,
    report_entries,
    seal_entry,
)
from ._upload import (
    Configuration,
    UploadRequest,
    config_message,
    read_config,
    sign_config,
    verify_config,
)
from ._venue import (
    Category,
    CodeKeys,
    PresenceProof,
    Venue,
    VenueCode,
    bound_key,
    checkin_url,
    code_id,
    valid_public_key,
)
from ._visit import (
    CheckIn,
    Slot,
    Visit,
    check_in,
    entry_key,
    hour_tag,
    slots_for,
    stay_windows,
    verification_code,
)
from .errors import CodeError, DecodeError, Error, VerificationError

__all__ = [
    "AuthorityKeys",
    "AuthorityPublicKeys",
    "Bundle",
    "BundleHeader",
    "Category",
    "CheckIn",
    "CodeError",
    "CodeKeys",
    "Configuration",
    "ConfirmedSlot",
    "ConsentMessage",
    "DecodeError",
    "EntryContent",
    "Error",
    "EvidenceLevel",
    "Exposure",
    "Policy",
    "PresenceProof",
    "RandomBytes",
    "SealingKey",
    "Slot",
    "UploadRequest",
    "VerificationError",
    "Venue",
    "VenueCode",
    "Visit",
    "bound_key",
    "check_in",
    "checkin_url",
    "code_id",
    "config_message",
    "confirm_message",
    "confirm_window",
    "decoy_entries",
    "entry_key",
    "evidence_holds",
    "hour_tag",
    "key_id",
    "match",
    "open_consent",
    "open_entry",
    "open_trace",
    "proof_coverage",
    "read_config",
    "report_entries",
    "seal_consent",
    "seal_entry",
    "seal_to",
    "seal_trace",
    "sign_config",
    "sign_bundle",
    "slots_for",
    "stay_windows",
    "union_length",
    "tag_groups",
    "valid_public_key",
    "verification_code",
    "verify_config",
]

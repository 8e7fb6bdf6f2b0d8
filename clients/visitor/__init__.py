"""The visitor's app: the encrypted diary, sync with the service, reports and consent.

- ``diary``: the diary at rest, check-in and check-out, warnings, kept bundles;
- ``syncing``: the signed configuration, bundle downloads, local matching, dummies;
- ``reporting``: a case's report with a TAN, and contact details sent by consent.
"""

from .diary import (
    BUNDLE_DIR,
    DIARY_FILE,
    KEY_FILE,
    LEVEL_LABELS,
    SALT_FILE,
    BundleRejected,
    CheckInResult,
    Diary,
    DiaryError,
    DiaryState,
    RandomBytes,
    ScanResult,
    ServiceConfig,
    StoredBundle,
    StoredVisit,
    StoredWarning,
    default_directory,
)
from .reporting import (
    ReportItem,
    normalize_tan,
    prepare_report,
    report_request,
    send_contact,
)
from .syncing import (
    DEFAULT_DUMMY_PROBABILITY,
    MAX_DUMMY_ENTRIES,
    Progress,
    SyncResult,
    dummy_upload,
    fetch_config,
    parse_pin,
    sync,
)

__all__ = [
    "BUNDLE_DIR",
    "DEFAULT_DUMMY_PROBABILITY",
    "DIARY_FILE",
    "KEY_FILE",
    "LEVEL_LABELS",
    "MAX_DUMMY_ENTRIES",
    "SALT_FILE",
    "BundleRejected",
    "CheckInResult",
    "Diary",
    "DiaryError",
    "DiaryState",
    "Progress",
    "RandomBytes",
    "ReportItem",
    "ScanResult",
    "ServiceConfig",
    "StoredBundle",
    "StoredVisit",
    "StoredWarning",
    "SyncResult",
    "default_directory",
    "dummy_upload",
    "fetch_config",
    "normalize_tan",
    "parse_pin",
    "prepare_report",
    "report_request",
    "send_contact",
    "sync",
]

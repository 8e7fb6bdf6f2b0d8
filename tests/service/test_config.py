"""The signed configuration and health."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from placecode.crypto import VerificationError, verify_config
from placecode.crypto import constants as c

from .conftest import T0


def test_config_is_signed_and_says_what_docs_api_md_says(
    client: FlaskClient, authority: Any
) -> None:
    body = client.get("/v1/config").json
    payload = base64.b64decode(body["payload"])
    signature = base64.b64decode(body["signature"])
    verify_config(payload, signature, authority)
    with pytest.raises(VerificationError):
        verify_config(payload + b" ", signature, authority)
    document = json.loads(payload)
    assert document == {
        "protocol": 1,
        "authority": {
            "sign_key": base64.b64encode(authority.sign_key).decode(),
            "seal_key": base64.b64encode(authority.seal_key).decode(),
            "key_id": authority.key_id.hex(),
        },
        "policy": {"warn_levels": [1, 2, 3], "min_overlap_minutes": 10},
        "retention_days": c.RETENTION_DAYS,
        "upload_bytes": c.UPLOAD_BYTES,
        "consent_bytes": c.CONSENT_BYTES,
        "messages": [
            "You shared a venue with a confirmed case. Watch for symptoms and get tested."
        ],
        "public_url": None,
        "issued_at": T0,
    }


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_the_service_runs_without_the_sealing_secret(
    tmp_path: Any, settings: dict[str, Any], authority: Any
) -> None:
    import shutil
    from pathlib import Path

    from placecode.service import create_app

    keys = tmp_path / "keys"
    keys.mkdir()
    for name in ("signing.key", "sealing.pub"):
        shutil.copy(Path(settings["KEY_DIR"]) / name, keys / name)
    app = create_app({**settings, "KEY_DIR": str(keys)})
    payload = base64.b64decode(app.test_client().get("/v1/config").json["payload"])
    assert (
        json.loads(payload)["authority"]["seal_key"]
        == base64.b64encode(authority.seal_key).decode()
    )
    app.extensions["placecode"].engine.dispose()

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
        "index": {
            "shard_min_entries": c.DEFAULT_SHARD_MIN_ENTRIES,
            "shard_fetches": c.DEFAULT_SHARD_FETCHES,
        },
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


def test_settings_are_one_typed_model_refusing_what_cannot_run() -> None:
    from placecode.service.config import Settings
    from placecode.service.errors import AdminError

    loaded = Settings.load({"PLACECODE_RETENTION_DAYS": "7", "PLACECODE_WARN_LEVELS": "1,2"})
    assert loaded.retention_days == 7 and loaded.warn_levels == (1, 2)
    for environ, named in [
        ({"PLACECODE_RETENTION_DAYS": "soon"}, "PLACECODE_RETENTION_DAYS"),
        ({"PLACECODE_RETENTION_DAYS": "0"}, "PLACECODE_RETENTION_DAYS"),
        ({"PLACECODE_WARN_LEVELS": "1 4"}, "PLACECODE_WARN_LEVELS"),
        ({"PLACECODE_UPLOAD_FLOOR_MS": "-1"}, "PLACECODE_UPLOAD_FLOOR_MS"),
        ({"PLACECODE_TAN_FAILURES_PER_HOUR": "0"}, "PLACECODE_TAN_FAILURES_PER_HOUR"),
    ]:
        with pytest.raises(AdminError, match=named):
            Settings.load(environ)
    with pytest.raises(AdminError, match="MESSAGES"):
        Settings.load({}, {"MESSAGES": ()})


def test_blueprints_reach_the_app_through_a_context_module_only() -> None:
    """No import cycle between the factory and the blueprints; the admin commands and
    the CLI import no blueprint."""
    import ast
    from pathlib import Path

    import placecode.service

    root = Path(placecode.service.__file__).parent

    def imports(path: Path) -> set[str]:
        tree = ast.parse(path.read_text())
        return {
            "." * n.level + (n.module or "")
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom)
        }

    for module in (root / "api").glob("*.py"):
        assert "..app" not in imports(module), module.name
    for name in ("admin.py", "cli.py", "context.py"):
        assert not any(m.startswith(".api") for m in imports(root / name)), name


def test_one_accepted_model_in_the_openapi_document(client: FlaskClient) -> None:
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    # SpecTree names a model NAME.hash, and one nested in it NAME.hash.NESTED
    names = [name.split(".")[2 if name.count(".") == 2 else 0] for name in schemas]
    assert len(names) == len(set(names)), sorted(names)
    assert "Accepted" in names and "BundleInfo" in names

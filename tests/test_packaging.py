"""The namespace and the extras, as an installer sees them.

The folders ``crypto/``, ``service/`` and ``clients/`` install as
``placecode.crypto``, ``placecode.service`` and ``placecode.clients``, so
none of them shadows a distribution of the same name; a visitor's install
(``placecode[clients]``) runs without the service's or the researchers'
dependencies.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
#: what only the service, the simulator or the property tests need
HEAVY = {
    "flask",
    "werkzeug",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "gunicorn",
    "pydantic",
    "spectree",
    "matplotlib",
    "hypothesis",
}

#: a meta path finder that makes every HEAVY module missing, as in an install without them
BLOCK = f"""
import sys
HEAVY = {sorted(HEAVY)!r}
class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in HEAVY:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Missing())
from placecode.cli import main
sys.exit(main(sys.argv[1:]))
"""


def placecode_without_heavy(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PLACECODE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-c", BLOCK, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        timeout=120,
    )


@pytest.mark.parametrize("package", ["crypto", "service", "clients"])
def test_bare_folder_names_do_not_import(package: str) -> None:
    """From the repository's root, where the folder is on sys.path, the bare name still fails."""
    bare = subprocess.run(
        [sys.executable, "-c", f"import {package}"], capture_output=True, text=True, cwd=ROOT
    )
    assert bare.returncode != 0
    assert f"import placecode.{package}, not {package}" in bare.stderr
    named = subprocess.run(
        [sys.executable, "-c", f"import placecode.{package}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert named.returncode == 0, named.stderr


def _names(extra: str | None) -> set[str]:
    names = set()
    for line in requires("placecode") or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if extra is None and marker is None:
            names.add(requirement.name.lower())
        elif marker is not None and marker.evaluate({"extra": extra}):
            names.add(requirement.name.lower())
    return names


def test_a_visitors_install_declares_nothing_of_the_service() -> None:
    visitor = _names(None) | _names("clients")
    assert visitor, "no requirements read"
    assert not visitor & HEAVY
    assert {"flask", "sqlalchemy"} <= _names("service")
    assert "hypothesis" in _names("research")


def test_visitor_and_venue_commands_run_without_the_service_dependencies(tmp_path: Path) -> None:
    created = placecode_without_heavy(
        "venue", "create", "--name", "Kiosk", "--category", "shop", "--out", "v", home=tmp_path
    )
    assert created.returncode == 0, created.stderr
    checked_in = placecode_without_heavy(
        "visit", "check-in", "v/poster.png", "--at", "2026-11-25T10:00Z", home=tmp_path
    )
    assert checked_in.returncode == 0, checked_in.stderr
    assert "Checked in at Kiosk" in checked_in.stdout
    listed = placecode_without_heavy("visit", "list", home=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "Kiosk" in listed.stdout


def test_a_command_whose_extra_is_missing_says_which_to_install(tmp_path: Path) -> None:
    served = placecode_without_heavy("serve", home=tmp_path)
    assert served.returncode == 1
    assert "pip install 'placecode[service]'" in served.stderr
    assert "Traceback" not in served.stderr

"""TANs and uploads against a simple model: a dict of live TANs and a set of entries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from placecode.service import create_app
from placecode.service.config import defaults
from placecode.service.context import state
from placecode.service.models import Entry

from .conftest import Clock
from .helpers import issue_tans, post_upload, random_entries, upload_body


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_tans_behave_like_the_model(database_url: str, key_dir: Path, token: Any) -> None:
    auth = token("tan-issuer")

    class TanMachine(RuleBasedStateMachine):
        tans = Bundle("tans")

        @initialize()
        def start(self) -> None:
            self.clock = Clock()
            self.app = create_app(
                {
                    **defaults(),
                    "DATABASE_URL": database_url,
                    "KEY_DIR": str(key_dir),
                    "CLOCK": self.clock,
                    "UPLOAD_FLOOR_MS": 0,
                    "TAN_RATE_PER_HOUR": 10_000,
                }
            )
            self.client = self.app.test_client()
            with self.app.app_context():
                self.baseline = self.stored()
            self.live: dict[str, float] = {}  # TAN -> expiry
            self.entries = 0

        def stored(self) -> int:
            with state().sessions() as session:
                return int(session.scalar(select(func.count()).select_from(Entry)) or 0)

        @rule(target=tans, hours=st.integers(1, 3))
        def issue(self, hours: int) -> str:
            (tan,) = issue_tans(self.client, auth, hours=hours)
            # valid that long, up to the next full hour: the finest time the service keeps
            self.live[tan] = -(-(self.clock.now + hours * 3600) // 3600) * 3600
            return tan

        @rule(tan=tans, count=st.integers(0, 6), dummy=st.booleans(), spell=st.booleans())
        def upload(self, tan: str, count: int, dummy: bool, spell: bool) -> None:
            typed = tan.replace("-", "").lower() if spell else tan
            status = post_upload(self.client, upload_body(typed, random_entries(count), dummy))
            valid = tan in self.live and self.clock.now < self.live[tan]
            note(f"upload {tan} dummy={dummy} valid={valid} -> {status.status_code}")
            if dummy:
                assert status.status_code == 202
                return
            assert status.status_code == (202 if valid else 403)
            if valid:
                del self.live[tan]
                self.entries += count

        @rule(minutes=st.integers(1, 150))
        def wait(self, minutes: int) -> None:
            self.clock.advance(minutes * 60)

        @invariant()
        def storage_agrees(self) -> None:
            if hasattr(self, "app"):
                with self.app.app_context():
                    assert self.stored() - self.baseline == self.entries

        def teardown(self) -> None:
            if hasattr(self, "app"):
                self.app.extensions["placecode"].engine.dispose()

    run_state_machine_as_test(
        TanMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        ),
    )

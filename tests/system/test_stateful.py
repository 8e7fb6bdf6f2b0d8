"""Runs the whole-system state machine (``placecode.testing.machine``) against placecode.

To run it long:

    HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/system
"""

from __future__ import annotations

import pytest
from hypothesis import settings

from placecode.testing.machine import SystemMachine

TestSystem = SystemMachine.TestCase
TestSystem.settings = settings(stateful_step_count=100)
#: a test case takes a second or two: long profiles get the time they need
pytestmark = pytest.mark.timeout(max(600, 3 * TestSystem.settings.max_examples))

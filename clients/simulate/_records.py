"""What the simulation knows and the protocol hides: who was where, who published what."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from placecode.crypto import Visit

Ints = npt.NDArray[np.int64]


@dataclass
class Published:
    """What the simulation knows about one published entry (the service does not)."""

    source: str
    venue: int
    bundle: int
    hour: int
    start_minute: int
    end_minute: int
    level: int
    forged: bool = False


@dataclass
class Upload:
    case: int
    at: int
    bundle: int
    visits: list[int]


def _column() -> array[int]:
    return array("q")


@dataclass
class Visits:
    """Every visit of the run, as parallel columns indexed by visit id (8 bytes each)."""

    visitor: array[int] = field(default_factory=_column)
    venue: array[int] = field(default_factory=_column)
    entered: array[int] = field(default_factory=_column)
    left_true: array[int] = field(default_factory=_column)
    left_recorded: array[int] = field(default_factory=_column)
    #: -1 for a poster, else the UTC day of the screen code
    code_day: array[int] = field(default_factory=_column)
    #: 1 when the visitor checked out by rescanning the code (an exit proof at a screen)
    rescanned: array[int] = field(default_factory=_column)
    #: every visit's ``Visit``, kept only by an eager run
    visit: list[Visit] = field(default_factory=list)

    def view(self, name: str) -> Ints:
        """A column as a numpy array (a view: valid until the next visit is added)."""
        column: array[int] = getattr(self, name)
        return np.frombuffer(column, dtype=np.int64) if len(column) else np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self.visitor)

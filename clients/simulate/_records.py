"""What the simulation knows and the protocol hides: who was where, who published what."""

from __future__ import annotations

from dataclasses import dataclass, field

from placecode.crypto import Visit


@dataclass
class Published:
    """What the simulation knows about one published entry (the service does not)."""

    source: str
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


@dataclass
class Visits:
    """Every visit of the run, as parallel lists indexed by visit id."""

    visitor: list[int] = field(default_factory=list)
    venue: list[int] = field(default_factory=list)
    entered: list[int] = field(default_factory=list)
    left_true: list[int] = field(default_factory=list)
    left_recorded: list[int] = field(default_factory=list)
    #: -1 for a poster, else the UTC day of the screen code
    code_day: list[int] = field(default_factory=list)
    visit: list[Visit] = field(default_factory=list)

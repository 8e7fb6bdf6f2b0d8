"""A population-scale simulation of placecode/1 on the real protocol code.

Visitors check in at venues of Zipf-like popularity, catch infections at
venues and in the community, test positive, and some consent to upload their
visits; owners confirm some outbreaks; attackers try to cause false warnings.
Every check-in, entry, bundle and match goes through :mod:`placecode.crypto`.
What lives here is only bookkeeping: who truly was where, to score warnings
against it.

One module per concern: ``_config`` (the parameters), ``_population``
(venues, visits, infections), ``_attackers``, ``_publishing`` (uploads, owner
confirmations, bundles), ``_devices`` (matching), ``_scoring`` (the typed
:class:`Result`) and ``_plot``.

Deterministic for a seed: behaviour draws from ``random.Random(seed)``, keys
and nonces from a second seeded stream, and time is simulated Unix seconds.
The library never prints; ``progress`` is called after each simulated day.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ._config import ATTACKERS, Config, policy_name
from ._plot import plot
from ._run import Run
from ._scoring import Result, score


def simulate(config: Config, progress: Callable[[int], None] | None = None) -> Result:
    """Runs the simulation; returns its results (see ``docs/research.md``)."""
    started = time.perf_counter()
    run = Run(config)
    for d in range(config.days):
        run.day(d)
        if progress is not None:
            progress(d + 1)
    return score(run, time.perf_counter() - started)


__all__ = ["ATTACKERS", "Config", "Result", "plot", "policy_name", "simulate"]

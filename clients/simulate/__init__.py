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

import multiprocessing
import time
from collections.abc import Callable, Iterable

from ._config import ATTACKERS, Config, policy_name
from ._partitions import Map, Partition, dask_map, simulate_partitioned
from ._plot import plot
from ._run import Run
from ._scoring import Result, score


def simulate(
    config: Config, progress: Callable[[int], None] | None = None, map_: Map | None = None
) -> Result:
    """Runs the simulation; returns its results (see ``docs/research.md``).

    With ``config.partitions > 1`` the partitions run through ``map_`` (for
    example :func:`dask_map` of a Dask client), else on ``config.workers``
    processes of this machine; ``progress`` is then called once per partition.
    """
    if config.partitions > 1:
        return _partitioned(config, progress, map_)
    started = time.perf_counter()
    run = Run(config)
    for d in range(config.days):
        run.day(d)
        if progress is not None:
            progress(d + 1)
    return score(run, time.perf_counter() - started)


__all__ = ["ATTACKERS", "Config", "Result", "dask_map", "plot", "policy_name", "simulate"]


def _partitioned(
    config: Config, progress: Callable[[int], None] | None, map_: Map | None
) -> Result:
    if map_ is None and config.workers > 1:
        with multiprocessing.get_context("fork").Pool(config.workers) as pool:
            return simulate(config, progress, _counting(pool.imap, progress))
    return simulate_partitioned(config, _counting(map_ or _map, progress))


def _map(f: Callable[[Config], Partition], configs: Iterable[Config]) -> Iterable[Partition]:
    return map(f, configs)


def _counting(map_: Map, progress: Callable[[int], None] | None) -> Map:
    def run(f: Callable[[Config], Partition], configs: Iterable[Config]) -> list[Partition]:
        done = []
        for part in map_(f, configs):
            done.append(part)
            if progress is not None:
                progress(len(done))
        return done

    return run

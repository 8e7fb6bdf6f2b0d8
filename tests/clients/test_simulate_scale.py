"""The simulator at population scale: crypto only where an entry can reach, partitions on Dask."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from placecode import crypto
from placecode.cli import main
from placecode.clients.simulate import Config, Result, dask_map, simulate
from placecode.clients.simulate._partitions import partition_configs, run_partition
from placecode.crypto import fuse8_bytes, shard_cuts

TIMINGS = {"wall_s", "wall_s_by_phase", "match_cpu_s_total", "match_us_per_device_day"}
TIMINGS |= {"bundle_verify_ms", "policy_rematch_cpu_s"}

SMALL = Config(
    visitors=400,
    venues=30,
    days=4,
    seed=3,
    community_incidence=0.03,
    transmission=0.02,
    detection=1.0,
    consent=1.0,
    upload_delay_hours=2.0,
    scraped_posters=3,
)


def untimed(result: Result) -> dict[str, Any]:
    return {k: v for k, v in result.to_json().items() if k not in TIMINGS}


def test_no_entry_no_cryptography(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = crypto.check_in

    def counting(code: crypto.VenueCode, now: int) -> crypto.CheckIn:
        calls.append(now)
        return real(code, now)

    monkeypatch.setattr(crypto, "check_in", counting)
    quiet = replace(SMALL, attackers=(), community_incidence=0.0)
    result = simulate(quiet)
    assert result.counts["visits"] > 1000
    assert result.counts["entries published"] == 0
    assert calls == []
    simulate(replace(quiet, eager=True))
    assert len(calls) >= result.counts["poster check-ins"]


def test_only_visits_an_entry_can_reach_are_checked_in(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = crypto.check_in

    def counting(code: crypto.VenueCode, now: int) -> crypto.CheckIn:
        calls.append(now)
        return real(code, now)

    monkeypatch.setattr(crypto, "check_in", counting)
    result = simulate(replace(SMALL, attackers=("forger",)))
    # the forger's entries reach the most popular screen only; cases add a few venues
    assert 0 < len(calls) < result.counts["visits"] / 2


def test_partitions_split_the_population_and_refuse_empty_ones() -> None:
    parts = partition_configs(replace(SMALL, partitions=4, visitors=402, venues=30))
    assert [p.visitors for p in parts] == [101, 101, 100, 100]
    assert [p.venues for p in parts] == [8, 8, 7, 7]
    assert len({p.seed for p in parts}) == 4
    assert all(p.partitions == 1 and p.workers == 1 for p in parts)
    with pytest.raises(crypto.Error):
        partition_configs(replace(SMALL, partitions=31))


def test_the_province_sums_its_districts() -> None:
    config = replace(SMALL, partitions=2, visitors=500, venues=40, days=3)
    parts = [run_partition(p)[0] for p in partition_configs(config)]
    merged = simulate(config)
    for key in ("visits", "true exposed visits", "entries published", "uploads"):
        assert merged.counts[key] == sum(p.counts[key] for p in parts)
    for name, warnings in merged.warnings_by_policy.items():
        assert warnings == sum(p.warnings_by_policy[name] for p in parts)
        hits = warnings - merged.false_warnings_by_policy[name]
        assert merged.precision_by_policy[name] == (hits / warnings if warnings else None)
    # one authority's bundle holds every district's entries
    real = sum(p.counts["entries published"] for p in parts)
    assert sum(merged.entries_per_day) == real + merged.counts["decoys"]
    assert merged.counts["bundles"] == config.days


def test_partitions_on_a_local_dask_cluster_match_a_local_run() -> None:
    distributed = pytest.importorskip("dask.distributed")
    config = replace(SMALL, partitions=3, visitors=300, venues=30, days=2)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = simulate(config, map_=dask_map(client))
    local = simulate(config)
    assert on_dask.counts["visits"] > 0
    assert untimed(on_dask) == untimed(local)


def test_the_command_runs_partitions_and_reports_both_download_paths(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    args = ["simulate", "--visitors", "300", "--venues", "20", "--days", "2", "--seed", "2"]
    assert main([*args, "--partitions", "2", "--workers", "2", "--json", str(out), "--quiet"]) == 0
    result = json.loads(out.read_text())
    assert result["parameters"]["partitions"] == 2
    assert result["bytes_per_device_per_day"] > 0
    assert result["index_path_bytes_per_device_per_day"] > 0
    assert set(result["index_path"]) >= {"shard_fetches_per_device_day", "decoy_fetch_share"}


@given(
    prefixes=st.lists(st.integers(0, 40), max_size=300).map(sorted),
    k=st.integers(1, 50),
)
def test_shards_hold_k_entries_and_never_split_a_prefix(prefixes: list[int], k: int) -> None:
    cuts = shard_cuts(prefixes, k)
    bounds = [0, *cuts, len(prefixes)]
    sizes = [hi - lo for lo, hi in zip(bounds, bounds[1:], strict=False)]
    if len(prefixes) >= k:
        assert all(size >= k for size in sizes)
    for cut in cuts:
        assert prefixes[cut] != prefixes[cut - 1]


def test_the_filter_takes_about_one_byte_and_an_eighth_per_entry() -> None:
    assert 1.1 < fuse8_bytes(10**6) / 10**6 < 1.2
    assert fuse8_bytes(0) > 0

"""``placecode simulate``: small runs through the command and the library."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from placecode.cli import main
from placecode.clients.simulate import Config, Result, simulate

#: keys whose values are measured times, different on every run
TIMINGS = {"wall_s", "wall_s_by_phase", "match_cpu_s_total", "match_us_per_device_day"}
TIMINGS |= {"bundle_verify_ms", "policy_rematch_cpu_s"}

#: small, but with enough infections that cases upload within a few days
SMALL = Config(
    visitors=300,
    venues=30,
    days=5,
    seed=3,
    community_incidence=0.03,
    transmission=0.02,
    detection=1.0,
    consent=1.0,
    upload_delay_hours=2.0,
    scraped_posters=3,
)
#: every stay checked out by hand, so devices record the true windows
EXACT = replace(SMALL, checkout_share=1.0)
#: the only ways a true exposure can go unwarned when windows are recorded truly
STRUCTURAL_MISSES = {"screen day code differs", "split across bundles"}


def untimed(result: Result) -> dict[str, Any]:
    return {k: v for k, v in result.to_json().items() if k not in TIMINGS}


def test_command_writes_json_and_png(tmp_path: Path) -> None:
    out, png = tmp_path / "run.json", tmp_path / "run.png"
    args = ["simulate", "--visitors", "200", "--venues", "20", "--days", "3", "--seed", "1"]
    assert main([*args, "--json", str(out), "--plot", str(png), "--quiet"]) == 0
    result = json.loads(out.read_text())
    for key in (
        "parameters",
        "precision",
        "recall",
        "false_warnings_by_attacker",
        "false_warnings_by_policy",
        "bytes_per_device_per_day",
        "server_storage_bytes",
        "match_cpu_s_total",
        "match_us_per_device_day",
        "wall_s",
        "counts",
    ):
        assert key in result
    assert result["parameters"]["visitors"] == 200
    assert list(result["false_warnings_by_policy"]) == ["1,2,3", "1,2", "1"]
    assert result["counts"]["bundles"] == 3
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_command_prints_a_summary(capsys: Any) -> None:
    args = ["simulate", "--visitors", "50", "--venues", "5", "--days", "1", "--no-attackers"]
    args += ["--eager"]
    assert main([*args, "--policy", "1,2"]) == 0
    out = capsys.readouterr().out
    assert "policy 1,2" in out
    assert "bytes per device per day" in out


def test_command_refuses_a_bad_policy(capsys: Any) -> None:
    assert main(["simulate", "--days", "1", "--policy", "4"]) == 2
    assert "evidence levels" in capsys.readouterr().err


def test_a_seed_gives_the_same_run() -> None:
    first, second = simulate(SMALL), simulate(SMALL)
    assert untimed(first) == untimed(second)
    assert untimed(simulate(replace(SMALL, seed=4))) != untimed(first)


def test_workers_do_not_change_the_results() -> None:
    eager = replace(SMALL, eager=True)
    two = untimed(simulate(replace(eager, workers=2)))
    assert {**two, "parameters": None} == {**untimed(simulate(eager)), "parameters": None}


def test_matching_only_what_an_entry_can_reach_changes_no_result() -> None:
    for config in (SMALL, replace(SMALL, checkout_share=0.3, screen_share=0.7, seed=9)):
        eager = simulate(replace(config, eager=True))
        lazy = simulate(config)
        assert eager.counts["true exposed visits"] > 0
        assert {**untimed(eager), "parameters": None} == {**untimed(lazy), "parameters": None}


def test_lazy_workers_do_not_change_the_results() -> None:
    two = untimed(simulate(replace(SMALL, workers=2)))
    assert {**two, "parameters": None} == {**untimed(simulate(SMALL)), "parameters": None}


def test_without_attackers_every_warning_is_a_true_exposure() -> None:
    result = simulate(replace(EXACT, attackers=()))
    assert result.counts["true exposed visits"] > 0
    assert result.precision_by_policy == {"1,2,3": 1.0, "1,2": 1.0, "1": 1.0}
    assert set(result.missed_by_cause) <= STRUCTURAL_MISSES
    missed = sum(result.missed_by_cause.values())
    assert result.recall == 1 - missed / result.counts["true exposed visits"]


def test_attackers_warn_only_where_self_reported_entries_do() -> None:
    result = simulate(EXACT)
    by_attacker = result.false_warnings_by_attacker
    assert by_attacker["scraper"]["1,2,3"] > 0
    for name in ("scraper", "fake-uploader", "stale-screen", "forger"):
        assert by_attacker[name]["1,2"] == by_attacker[name]["1"] == 0
    assert result.false_warnings_by_policy["1,2"] == 0
    assert result.false_warnings_by_policy["1"] == 0
    assert result.counts["stale check-ins refused"] == EXACT.days


def test_forged_presence_proofs_never_warn() -> None:
    result = simulate(replace(EXACT, attackers=("forger",)))
    assert result.entries_by_source["forger"] > 0
    assert result.false_warnings_by_policy == {"1,2,3": 0, "1,2": 0, "1": 0}


def test_automatic_check_outs_cost_precision_not_attackers() -> None:
    result = simulate(replace(SMALL, attackers=(), checkout_share=0.0))
    false = result.false_warnings_by_policy["1,2,3"]
    assert false > 0
    assert result.false_warnings_by_attacker == {"honest": result.false_warnings_by_policy}


@settings(max_examples=8)
@given(
    seed=st.integers(0, 2**32 - 1),
    visitors=st.integers(20, 120),
    venues=st.integers(1, 15),
    days=st.integers(1, 4),
    screen_share=st.sampled_from([0.0, 0.5, 1.0]),
    rescan_share=st.sampled_from([0.0, 1.0]),
)
def test_precision_is_one_without_attackers(
    seed: int, visitors: int, venues: int, days: int, screen_share: float, rescan_share: float
) -> None:
    config = replace(
        EXACT,
        seed=seed,
        visitors=visitors,
        venues=venues,
        days=days,
        screen_share=screen_share,
        rescan_share=rescan_share,
        attackers=(),
        community_incidence=0.05,
    )
    result = simulate(config)
    for precision in result.precision_by_policy.values():
        assert precision in (None, 1.0)
    assert set(result.missed_by_cause) <= STRUCTURAL_MISSES


def test_every_config_field_is_an_option_with_its_default(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    assert main(["simulate", "--days", "1", "--visitors", "20", "--json", str(out), "--quiet"]) == 0
    parameters = json.loads(out.read_text())["parameters"]
    expected = {**asdict(replace(Config(), days=1, visitors=20))}
    expected["policies"] = ["1,2,3", "1,2", "1"]
    expected["attackers"] = list(Config().attackers)
    assert parameters == expected


def test_options_reach_the_config(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    args = ["simulate", "--days", "2", "--visitors", "30", "--incidence", "0.25"]
    args += ["--min-overlap", "20", "--attacker", "forger", "--policy", "1", "--zipf", "0.5"]
    assert main([*args, "--eager", "--json", str(out), "--quiet"]) == 0
    parameters = json.loads(out.read_text())["parameters"]
    assert parameters["community_incidence"] == 0.25
    assert parameters["min_overlap_minutes"] == 20
    assert parameters["attackers"] == ["forger"]
    assert parameters["policies"] == ["1"]
    assert parameters["zipf"] == 0.5
    assert parameters["eager"] is True


def test_option_ranges_come_from_the_config(capsys: Any) -> None:
    assert main(["simulate", "--days", "367"]) == 2
    assert main(["simulate", "--screen-share", "1.5"]) == 2
    assert "0<=x<=1" in capsys.readouterr().err


def test_a_result_reads_back_from_its_json() -> None:
    result = simulate(replace(SMALL, days=2, visitors=40))
    assert Result.from_json(json.loads(json.dumps(result.to_json()))) == result


def test_a_small_run_where_only_attackers_warn_is_told_honestly(capsys: Any) -> None:
    """Regression: at small scale the precision panel was empty without an n/a, the
    y-axes did not start at zero, and the summary did not say that every warning
    came from an attacker."""
    from placecode.clients.simulate._plot import figure

    config = replace(EXACT, community_incidence=0.0, transmission=0.0)
    result = simulate(config)
    assert result.warnings_by_policy["1,2,3"] == result.false_warnings_by_policy["1,2,3"] > 0
    assert result.precision_by_policy["1,2"] is None and result.recall_by_policy["1,2"] is None
    warns, daily, scores = figure(result).axes
    assert warns.get_ylim()[0] == daily.get_ylim()[0] == 0
    # precision and recall of "1,2" and "1", and the recall of "1,2,3": nothing to score
    assert [t.get_text() for t in scores.texts] == ["n/a"] * 5
    args = ["simulate", "--visitors", "300", "--venues", "30", "--days", "5", "--seed", "3"]
    args += ["--incidence", "0", "--transmission", "0", "--scraped-posters", "3"]
    assert main([*args, "--checkout-share", "1"]) == 0
    out = capsys.readouterr().out
    assert "policy 1,2,3: all" in out and "warnings came from attackers (scraper" in out

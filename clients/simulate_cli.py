"""``placecode simulate``: the population-scale simulation, as a command.

Its options are generated from :class:`Config`'s fields, whose metadata carry
each option's name, range and help: a default is written once, in the config.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, TypeVar

import click
from tqdm import tqdm

try:
    from .simulate import ATTACKERS, Config, Result, dask_map, plot
    from .simulate import simulate as run
    from .simulate._config import HONEST
except ModuleNotFoundError as e:  # a visitor's install has no research extra
    if e.name != "numpy":
        raise
    raise click.ClickException(
        "placecode simulate needs the research extra: pip install 'placecode[research]'"
    ) from None

F = TypeVar("F", bound=Callable[..., Any])


def _policy(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(sorted({int(x) for x in text.replace(",", " ").split()}))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a list of evidence levels") from None
    if not levels or not set(levels) <= {1, 2, 3}:
        raise click.BadParameter(f"{text!r}: evidence levels are 1, 2 and 3")
    return levels


def _range(kind: type, lo: float | None, hi: float | None) -> click.ParamType[Any]:
    if lo is None and hi is None:
        return click.INT if kind is int else click.FLOAT
    if kind is int:
        return click.IntRange(None if lo is None else int(lo), None if hi is None else int(hi))
    return click.FloatRange(lo, hi)


def config_options(command: F) -> F:
    """Adds one option per :class:`Config` field, in the fields' order."""
    for f in reversed(fields(Config)):
        meta = f.metadata
        if not meta.get("cli"):
            continue
        assert f.default is not MISSING
        help_text = meta["help"] or None
        if f.name == "attackers":
            command = click.option("--no-attackers", is_flag=True, help="Run without attackers.")(
                command
            )
            command = click.option(
                "--attacker",
                "attackers",
                multiple=True,
                type=click.Choice(ATTACKERS),
                help=help_text,
            )(command)
            continue
        if f.name == "policies":
            command = click.option(
                "--policy", "policies", multiple=True, metavar="LEVELS", help=help_text
            )(command)
            continue
        flag = "--" + (meta["name"] or f.name.replace("_", "-"))
        if isinstance(f.default, bool):
            command = click.option(flag, f.name, is_flag=True, help=help_text)(command)
            continue
        command = click.option(
            flag,
            f.name,
            type=_range(type(f.default), meta["lo"], meta["hi"]),
            default=f.default,
            show_default=True,
            help=help_text,
        )(command)
    return command


@click.command("simulate")
@config_options
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the results as JSON to this file ('-': standard output).",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a PNG plot to this file.",
)
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS",
    help="Run the partitions on a Dask cluster: its scheduler's address, or 'local' for a "
    "local cluster of --workers processes.",
)
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
def simulate(
    json_path: Path | None,
    plot_path: Path | None,
    dask_address: str | None,
    quiet: bool,
    no_attackers: bool,
    attackers: tuple[str, ...],
    policies: tuple[str, ...],
    **options: Any,
) -> None:
    """Simulate check-ins, cases, uploads, attackers and matching at population scale."""
    config = Config(
        attackers=() if no_attackers else attackers or ATTACKERS,
        policies=tuple(_policy(p) for p in policies) or Config.policies,
        **options,
    )
    bar = tqdm(
        total=config.partitions if config.partitions > 1 else config.days,
        unit="partition" if config.partitions > 1 else "day",
        file=sys.stderr,
        disable=quiet or not sys.stderr.isatty(),
    )

    def progress(day: int) -> None:
        bar.update(1)

    with bar, contextlib.ExitStack() as stack:
        map_ = None
        if dask_address is not None:
            map_ = dask_map(_dask_client(stack, dask_address, config.workers))
        result = run(config, progress=progress, map_=map_)
    if json_path is not None:
        text = json.dumps(result.to_json(), indent=2) + "\n"
        if str(json_path) == "-":
            click.echo(text, nl=False)
        else:
            json_path.write_text(text)
    if plot_path is not None:
        plot(result, plot_path)
    if not quiet and str(json_path) != "-":
        click.echo(_summary(result))


def _dask_client(stack: contextlib.ExitStack, address: str, workers: int) -> Any:
    try:
        from dask import distributed
    except ImportError:
        raise click.ClickException("--dask needs Dask: pip install 'placecode[research]'") from None
    engine: Any = distributed  # Dask's API is not typed
    if address == "local":
        cluster = stack.enter_context(
            engine.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
        )
        return stack.enter_context(engine.Client(cluster))
    return stack.enter_context(engine.Client(address))


def _summary(result: Result) -> str:
    def percent(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.1f}%"

    lines = [f"simulated in {result.wall_s:.1f} s"]
    for name in result.warnings_by_policy:
        lines.append(
            f"policy {name:6}: {result.warnings_by_policy[name]:7} warnings, "
            f"{result.false_warnings_by_policy[name]:6} false, "
            f"precision {percent(result.precision_by_policy[name])}, "
            f"recall {percent(result.recall_by_policy[name])}"
        )
    by_source = result.false_warnings_by_attacker
    for name, warned in result.warnings_by_policy.items():
        honest = by_source.get(HONEST, {}).get(name, 0)
        if warned and result.false_warnings_by_policy[name] == warned and not honest:
            sources = [s for s, by in by_source.items() if s != HONEST and by[name]]
            lines.append(
                f"policy {name}: all {warned} warnings came from attackers "
                f"({', '.join(sources)}); none was a true exposure"
            )
    lines.append(f"bytes per device per day: {result.bytes_per_device_per_day:,.0f}")
    lines.append(f"matching: {result.match_us_per_device_day:.1f} us per device and day")
    return "\n".join(lines)


__all__ = ["config_options", "simulate"]

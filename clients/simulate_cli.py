"""``placecode simulate``: the population-scale simulation, as a command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from tqdm import tqdm

from .simulate import ATTACKERS, Config, plot
from .simulate import simulate as run


def _policy(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(sorted({int(x) for x in text.replace(",", " ").split()}))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a list of evidence levels") from None
    if not levels or not set(levels) <= {1, 2, 3}:
        raise click.BadParameter(f"{text!r}: evidence levels are 1, 2 and 3")
    return levels


@click.command("simulate")
@click.option("--visitors", type=click.IntRange(1), default=1000, show_default=True)
@click.option("--venues", type=click.IntRange(1), default=100, show_default=True)
@click.option("--days", type=click.IntRange(1, 366), default=14, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--visits-per-day", type=click.FloatRange(0), default=1.0, show_default=True)
@click.option(
    "--zipf",
    type=click.FloatRange(0),
    default=1.0,
    show_default=True,
    help="Venue popularity ~ 1 / rank ** ZIPF.",
)
@click.option(
    "--screen-share",
    type=click.FloatRange(0, 1),
    default=0.3,
    show_default=True,
    help="Share of venues with a rotating screen.",
)
@click.option(
    "--checkout-share",
    type=click.FloatRange(0, 1),
    default=0.8,
    show_default=True,
    help="Share of stays checked out by hand on leaving (the rest: automatic).",
)
@click.option(
    "--rescan-share",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Share of hand check-outs done by rescanning the code.",
)
@click.option(
    "--incidence",
    type=click.FloatRange(0, 1),
    default=0.0002,
    show_default=True,
    help="Daily chance of an infection outside venues.",
)
@click.option(
    "--transmission",
    type=click.FloatRange(0, 1),
    default=0.0005,
    show_default=True,
    help="Chance that 15 shared minutes at a venue pass an infection.",
)
@click.option(
    "--detection",
    type=click.FloatRange(0, 1),
    default=0.7,
    show_default=True,
    help="Share of infections confirmed by a test.",
)
@click.option(
    "--consent",
    type=click.FloatRange(0, 1),
    default=0.6,
    show_default=True,
    help="Share of confirmed cases who upload.",
)
@click.option("--upload-delay-hours", type=click.FloatRange(0), default=12.0, show_default=True)
@click.option(
    "--owner-reach",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Share of a case's venues whose owner confirms the window.",
)
@click.option(
    "--attacker",
    "attackers",
    multiple=True,
    type=click.Choice(ATTACKERS),
    help="Attackers to include (repeat); default all.",
)
@click.option("--no-attackers", is_flag=True, help="Run without attackers.")
@click.option("--scraped-posters", type=click.IntRange(0), default=10, show_default=True)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    metavar="LEVELS",
    help="Evidence levels that warn, e.g. 1,2,3 (repeat; first is primary). "
    "Default: 1,2,3 then 1,2 then 1.",
)
@click.option(
    "--min-overlap",
    type=click.IntRange(1, 720),
    default=10,
    show_default=True,
    help="Shared minutes before a device warns.",
)
@click.option("--min-bundle-entries", type=click.IntRange(0), default=200, show_default=True)
@click.option("--dummy-uploads-per-day", type=click.FloatRange(0), default=0.1, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Processes that match devices (results do not depend on it).",
)
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
    "--exact-check-outs",
    is_flag=True,
    help="Every device derives its own tags (CheckIn.check_out); same results, slower.",
)
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
def simulate(
    json_path: Path | None,
    plot_path: Path | None,
    quiet: bool,
    no_attackers: bool,
    attackers: tuple[str, ...],
    policies: tuple[str, ...],
    incidence: float,
    min_overlap: int,
    **options: float,
) -> None:
    """Simulate check-ins, cases, uploads, attackers and matching at population scale."""
    config = Config(
        attackers=() if no_attackers else attackers or ATTACKERS,
        policies=tuple(_policy(p) for p in policies) or Config.policies,
        community_incidence=incidence,
        min_overlap_minutes=min_overlap,
        **options,  # type: ignore[arg-type]
    )
    bar = tqdm(
        total=config.days,
        unit="day",
        file=sys.stderr,
        disable=quiet or not sys.stderr.isatty(),
    )

    def progress(day: int) -> None:
        bar.update(1)

    with bar:
        result = run(config, progress=progress)
    if json_path is not None:
        text = json.dumps(result, indent=2) + "\n"
        if str(json_path) == "-":
            click.echo(text, nl=False)
        else:
            json_path.write_text(text)
    if plot_path is not None:
        plot(result, plot_path)
    if not quiet and str(json_path) != "-":
        click.echo(_summary(result))


def _summary(result: dict[str, object]) -> str:
    def percent(x: object) -> str:
        return "n/a" if x is None else f"{100 * float(x):.1f}%"  # type: ignore[arg-type]

    lines = [f"simulated in {result['wall_s']:.1f} s"]
    for name in result["warnings_by_policy"]:  # type: ignore[attr-defined]
        lines.append(
            f"policy {name:6}: {result['warnings_by_policy'][name]:7} warnings, "  # type: ignore[index]
            f"{result['false_warnings_by_policy'][name]:6} false, "  # type: ignore[index]
            f"precision {percent(result['precision_by_policy'][name])}, "  # type: ignore[index]
            f"recall {percent(result['recall_by_policy'][name])}"  # type: ignore[index]
        )
    lines.append(f"bytes per device per day: {result['bytes_per_device_per_day']:,.0f}")
    lines.append(f"matching: {result['match_us_per_device_day']:.1f} us per device and day")
    return "\n".join(lines)


__all__ = ["simulate"]

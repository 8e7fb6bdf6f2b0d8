"""The PNG of a run: warnings by policy and source, daily bundle size, precision and recall."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ._config import HONEST
from ._scoring import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: bar colours of false warnings by source; true warnings are green
COLORS = {
    "scraper": "tab:blue",
    "fake-uploader": "tab:orange",
    "stale-screen": "tab:purple",
    "forger": "tab:brown",
    HONEST: "tab:red",
}


def plot(result: Result, path: Path) -> None:
    """Writes a PNG: warnings by policy and source, entries per day, precision and recall."""
    figure(result).savefig(path, format="png", dpi=100)


def figure(result: Result) -> Figure:
    """The plot's figure. Every y-axis starts at zero; a score without data says n/a."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    names = list(result.warnings_by_policy)
    fig = Figure(figsize=(14, 4.5), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    true = [result.warnings_by_policy[n] - result.false_warnings_by_policy[n] for n in names]
    ax1.bar(names, true, label="true warnings", color="tab:green")
    bottom = list(true)
    for source, by_policy in result.false_warnings_by_attacker.items():
        heights = [by_policy[n] for n in names]
        if any(heights):
            color = COLORS.get(source)
            ax1.bar(names, heights, bottom=bottom, label=f"false: {source}", color=color)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax1.set_xlabel("evidence levels that warn")
    ax1.set_ylabel("warned visits")
    ax1.set_ylim(bottom=0)
    ax1.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax1.set_title("Warnings by policy (a false one counts under each source)")
    ax1.legend(fontsize="small")
    days = range(1, len(result.entries_per_day) + 1)
    ax2.plot(days, [b / 1024 for b in result.bundle_bytes_per_day], marker="o")
    ax2.set_xlabel("day")
    ax2.set_ylabel("bundle KiB (downloaded by every device)")
    ax2.set_ylim(bottom=0)
    ax2.set_title("Daily bundle size")
    x = range(len(names))
    for offset, label, scores in (
        (-0.2, "precision", result.precision_by_policy),
        (0.2, "recall", result.recall_by_policy),
    ):
        values = [scores[n] for n in names]
        ax3.bar([i + offset for i in x], [v or 0 for v in values], width=0.4, label=label)
        for i, v in zip(x, values, strict=True):
            if v is None:  # no warnings (precision) or no exposures (recall) to score
                ax3.text(i + offset, 0.02, "n/a", ha="center", va="bottom", fontsize="small")
    ax3.set_xticks(list(x), names)
    ax3.set_ylim(0, 1.05)
    ax3.set_xlabel("evidence levels that warn")
    ax3.set_title("Precision and recall (per visit)")
    ax3.legend(fontsize="small")
    p = result.parameters
    fig.suptitle(
        f"placecode simulate: {p['visitors']:,} visitors, {p['venues']:,} venues, "
        f"{p['days']} days, seed {p['seed']}"
    )
    return fig

"""The shared results file: one flat JSON object that every benchmark merges into."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).with_name("results.json")


def record(figures: dict[str, float | int]) -> None:
    """Merges ``figures`` into results.json, keeping other benchmarks' keys, and prints them."""
    merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    merged.update(figures)
    RESULTS.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    width = max(len(k) for k in figures)
    print(f"{'figure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 12}")
    for key, value in figures.items():
        shown = f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"
        print(f"{key:<{width}}  {shown}")

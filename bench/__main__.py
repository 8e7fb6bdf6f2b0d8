"""``python -m bench``: every benchmark in turn; each merges its figures into results.json."""

import importlib

#: One module per line, each with a ``run()``.
BENCHMARKS = [
    "bench.protocol",
    "bench.index",
    "bench.service",
    "bench.web",
    "bench.browser",
    "bench.demo",
]

for name in BENCHMARKS:
    importlib.import_module(name).run()

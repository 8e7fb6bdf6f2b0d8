"""Reusable testing tools, for this implementation and others (``pip install placecode[research]``).

- ``strategies``: Hypothesis strategies for every protocol value;
- ``invariants``: the protocol's properties, each a function of an
  implementation module, so another implementation can be checked against them;
- ``model`` and ``adapter``: a plain model of the whole system, and the
  interface a stateful test drives (``PlacecodeAdapter`` is the reference).
"""

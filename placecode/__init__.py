"""placecode: privacy-preserving venue check-in and exposure matching.

The packages live in the repository's top-level folders and install under
this one namespace, so that none of them shadows a distribution of the same
name:

- ``placecode.crypto`` (``crypto/``): the protocol, pure;
- ``placecode.service`` (``service/``): the health authority's service;
- ``placecode.clients`` (``clients/``): the visitor, venue and authority clients;
- ``placecode.testing``: Hypothesis strategies, protocol invariants and the
  whole-system model, for testing this or another implementation;
- ``placecode.cli``: the ``placecode`` command, the one module that knows
  both the service and the clients.
"""

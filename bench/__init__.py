"""Benchmarks: ``python -m bench`` runs them all and merges figures into results.json."""

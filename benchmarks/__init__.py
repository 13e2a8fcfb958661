"""Benchmarks: ``make bench`` (``python -m benchmarks``); results in benchmarks/RESULTS.md."""

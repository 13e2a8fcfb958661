"""Benchmarks: run by a command, results written to benchmarks/RESULTS.md."""

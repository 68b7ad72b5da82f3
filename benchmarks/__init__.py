"""Benchmarks for the speed and memory targets of the issues (`make bench`); results go to
docs/benchmarks.md, never into timed tests."""

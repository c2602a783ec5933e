"""Benchmarks: the data generator and `make bench` (see bench/README.md)."""

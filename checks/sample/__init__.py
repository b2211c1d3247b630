"""Realistic claim batches with planted violations, for the README, the tests and the benchmarks."""

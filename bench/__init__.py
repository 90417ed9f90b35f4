"""Benchmark: a generated 1M-deal workspace, the real HTTP endpoint, queries and charts."""

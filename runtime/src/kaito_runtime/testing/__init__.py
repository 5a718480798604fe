"""Helpers shared by the runtime's tests and benchmarks (tiny models, server processes)."""

"""Benchmark harness: a lean Socket.IO load generator, a bare baseline server and a runner.

Run ``.venv/bin/python -m bench.run --help``; see docs/benchmarks.md.
"""

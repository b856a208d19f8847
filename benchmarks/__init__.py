"""The benchmarks: scripts run one by one (`python benchmarks/bench_x.py`) or all together
(`python -m benchmarks`, see __main__.py)."""

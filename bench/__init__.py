"""Benchmarks: scripts that print figures (make bench runs them through run_all.py)."""

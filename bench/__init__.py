"""Benchmarks: ``make bench`` (``python -m bench``) measures, compares with floors and targets, and writes
bench/RESULTS.md. Each section is a module with ``run(quick: bool) -> Section``; see docs/quality.md.
"""

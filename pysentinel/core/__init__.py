"""The sans-IO sentinel core: synchronous, deterministic, no trio/socket/os/time.

See ``../shared/DESIGN.md`` §2 and ``STYLE.md`` rule 1. ``tests/core/test_sans_io.py``
walks the imports of every module in this package and fails on forbidden ones.
"""

"""pysentinel: a pure-Python, drop-in Redis Sentinel (redis-sentinel 7.0.15 compatible)."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"

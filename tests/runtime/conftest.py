"""Fixtures for the runtime tests (helpers live in runtime_helpers.py)."""

from runtime_helpers import redis_port

__all__ = ["redis_port"]

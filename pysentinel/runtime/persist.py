"""Carry out ``PersistConfig``: flush the config file and report like sentinelFlushConfig.

The rewrite itself (temporary file, fsync, rename, fsync of the directory) lives in
:func:`pysentinel.config.flush`; here we only turn its outcome into the log line and,
when a client command is waiting on the flush, the reply (spec §2.7).
"""

from __future__ import annotations

from pysentinel import config as config_module
from pysentinel.core.effects import PersistConfig
from pysentinel.core.types import LogLevel
from pysentinel.core.values import Error, Simple, Value
from pysentinel.runtime.log import Logger

__all__ = ["FLUSH_FAILED_REPLY", "persist"]

FLUSH_FAILED_REPLY = Error("ERR Failed to save config file. Check server logs.")


def persist(effect: PersistConfig, path: str, logger: Logger) -> Value | None:
    """Rewrite the config at ``path`` from ``effect.config`` and log the outcome.

    Returns:
        The reply for ``effect.reply_to`` (``+OK`` or the failure error), or None when no
        client is waiting. Mirrors sentinelFlushConfig() and its callers' replies.
    """
    try:
        config_module.flush(path, effect.config)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        logger.log(
            LogLevel.WARNING,
            f"WARNING: Sentinel was not able to save the new configuration on disk!!!: {reason}",
        )
        return None if effect.reply_to is None else FLUSH_FAILED_REPLY
    logger.log(LogLevel.NOTICE, "Sentinel new configuration saved on disk")
    return None if effect.reply_to is None else Simple("OK")

"""Epochs at the edge of uint64, against redis-sentinel 7.0.15 (found by the core fuzz).

sentinel.c keeps epochs in ``uint64_t``. A hello (anyone who can ``PUBLISH`` to a
monitored master's ``__sentinel__:hello`` channel, or to the sentinel port, can send
one) may carry a current epoch of ``18446744073709551615``; the sentinel adopts it, and
its next failover start increments it, which wraps to 0 in C. We send that hello to a
pysentinel and to a redis-sentinel, run ``SENTINEL FAILOVER`` on both, and compare the
``+new-epoch`` events and the epoch lines of the rewritten config: a pysentinel that
goes to 2**64 writes epochs that load back as 2**64 - 1 (``strtoull`` saturates), so its
epochs go back across a restart and its hellos carry a number no peer can represent.
"""

from __future__ import annotations

import pytest
from harness import HOST, PYSENTINEL, REDIS_SENTINEL, Interop, monitor_lines

from pysentinel import config as config_module

pytestmark = pytest.mark.interop

UINT64_MAX = 2**64 - 1


def _run(env: Interop, impl: str) -> tuple[list[str], list[str], int]:
    master = env.redis()
    replica = env.redis(replicaof=master)
    s = env.sentinel(monitor_lines(master, quorum=1), impl=impl)
    env.wait_until(lambda: [r["flags"] for r in s.replicas()] == ["slave"], 20, "the replica")
    hello = f"{HOST},1,{'1' * 40},{UINT64_MAX},mymaster,{HOST},{master.port},0"
    assert s.cmd("PUBLISH", "__sentinel__:hello", hello) == 1
    env.wait_until(lambda: s.has_event("+new-epoch", str(UINT64_MAX)), 10, "the epoch")
    assert s.sentinel("FAILOVER", "mymaster") == "OK"
    env.wait_until(lambda: s.follows(replica), 30, f"{impl} to switch")
    epochs = [e.payload for e in s.events("+new-epoch")]
    lines = [
        ln for ln in s.conf.read_text().splitlines() if ln.startswith("sentinel ") and "epoch" in ln
    ]
    loaded = config_module.load(str(s.conf)).current_epoch
    return epochs, lines, loaded


def test_epochs_wrap_like_uint64(procs_env: Interop) -> None:
    ref_epochs, ref_lines, ref_loaded = _run(procs_env, REDIS_SENTINEL)
    # What 7.0.15 does (checked, so that a change of the reference is noticed too).
    assert ref_epochs == [str(UINT64_MAX), "0"]
    assert "sentinel current-epoch 0" in ref_lines
    ours_epochs, ours_lines, ours_loaded = _run(procs_env, PYSENTINEL)
    assert ours_epochs == ref_epochs, (ours_epochs, ours_lines)
    assert ours_lines == ref_lines
    assert ours_loaded == ref_loaded == 0

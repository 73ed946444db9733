"""Shared pieces of the fault tests: fast sentinel tunables, settle checks, epoch ledger.

"Settled" means: every running sentinel names the same master through
``GET-MASTER-ADDR-BY-NAME``, that redis-server says ``ROLE master``, and every other
running redis-server replicates it with its link up. The safety checks made at each
settled point:

* exactly one running redis-server accepts a write (the others answer ``READONLY``
  or ``NOREPLICAS``);
* every sentinel's config file loads (``config.load``);
* per sentinel, the ``current-epoch`` in its file and the master's ``config-epoch`` it
  reports never went down, across SIGKILL/restart and SIGSTOP/SIGCONT.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
import redis
from harness import HOST, Interop, RedisNode, SentinelNode

from pysentinel import config as config_module

#: SENTINEL DEBUG pairs that make a failover take seconds, not minutes (the Tcl suite
#: does the same). They are not persisted: we apply them again after every restart.
FAST_TUNABLES = [
    "ping-period", "200", "ask-period", "200", "publish-period", "200",
    "info-period", "500", "tilt-period", "1000", "tilt-trigger", "2000",
]  # fmt: skip


def make_fast(sentinel: SentinelNode) -> None:
    reply = sentinel.sentinel("DEBUG", *FAST_TUNABLES)
    assert reply == "OK", reply


def accepts_write(node: RedisNode, key: str) -> bool:
    """Does this redis-server accept a write right now?"""
    try:
        node.client().set(key, "1")
    except redis.ReadOnlyError:
        return False
    except redis.ResponseError as exc:
        if "NOREPLICAS" in str(exc) or "good replicas" in str(exc):
            return False
        raise
    return True


@attrs.define
class EpochLedger:
    """The highest epochs ever seen per sentinel (by name); they must never go down."""

    current: dict[str, int] = attrs.Factory(dict)
    config: dict[str, int] = attrs.Factory(dict)
    samples: int = 0

    def check(self, sentinel: SentinelNode, *, running: bool) -> None:
        cfg = config_module.load(str(sentinel.conf))  # raises on a torn/invalid file
        seen = [("current", self.current, cfg.current_epoch)]
        if running:
            seen.append(("config", self.config, int(sentinel.master()["config-epoch"])))
        for what, ledger, value in seen:
            before = ledger.get(sentinel.name, 0)
            assert value >= before, (
                f"{sentinel}: {what} epoch went back from {before} to {value}\n"
                f"{sentinel.conf.read_text()}"
            )
            ledger[sentinel.name] = value
        self.samples += 1


def settled_master(
    sentinels: Sequence[SentinelNode],
    nodes: Sequence[RedisNode],
    running: Callable[[RedisNode], bool],
) -> RedisNode | None:
    """The master everyone agrees on, or None while things are still moving."""
    addrs = {s.master_addr() for s in sentinels}
    if len(addrs) != 1:
        return None
    (addr,) = addrs
    master = next((n for n in nodes if n.addr == addr), None)
    if master is None or not running(master) or not master.is_master():
        return None
    for node in nodes:
        if node is not master and running(node) and not node.replicates(master):
            return None
    for s in sentinels:
        m = s.master()
        if (m["ip"], m["port"]) != (HOST, str(master.port)) or "failover-state" in m:
            return None
    return master


def check_single_writer(
    env: Interop, nodes: Sequence[RedisNode], running: Callable[[RedisNode], bool], key: str
) -> RedisNode:
    writers = [n for n in nodes if running(n) and accepts_write(n, key)]
    assert len(writers) == 1, (
        f"{len(writers)} redis-servers accept writes: {[n.port for n in writers]}\n{env.describe()}"
    )
    return writers[0]

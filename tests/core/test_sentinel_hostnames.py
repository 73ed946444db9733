"""Hostnames (spec §9.5): shown as names with announce-hostnames, else as the IP."""

from __future__ import annotations

from helpers import Harness, master_config, sentinel_config

from pysentinel.core.effects import Reply
from pysentinel.core.inputs import ClientCommand, ClientConnected, LinkConnected
from pysentinel.core.types import Addr, ClientId, LinkKind
from pysentinel.core.values import Array, Bulk


def _addr_by_name(harness: Harness) -> Array:
    effects = harness.handle(
        ClientCommand(
            client=ClientId(1), argv=(b"SENTINEL", b"GET-MASTER-ADDR-BY-NAME", b"mymaster")
        )
    )
    (reply,) = [e for e in effects if isinstance(e, Reply)]
    assert isinstance(reply.value, Array)
    return reply.value


def test_sentinel_hostname_shown_as_resolved_ip_unless_announced() -> None:
    harness = Harness(sentinel_config(master_config(host="localhost"), resolve_hostnames=True))
    harness.start()
    harness.handle(ClientConnected(client=ClientId(1), addr="127.0.0.1:5000", laddr="x"))
    harness.tick()
    # Before any connection we only know the name.
    assert _addr_by_name(harness) == Array((Bulk(b"localhost"), Bulk(b"6379")))
    (cmd,) = harness.links_to(Addr("localhost", 6379), LinkKind.COMMAND)
    harness.handle(
        LinkConnected(link=cmd, local_host="127.0.0.1", local_port=5001, remote_host="127.0.0.1")
    )
    assert _addr_by_name(harness) == Array((Bulk(b"127.0.0.1"), Bulk(b"6379")))
    harness.sentinel.announce_hostnames = True
    assert _addr_by_name(harness) == Array((Bulk(b"localhost"), Bulk(b"6379")))

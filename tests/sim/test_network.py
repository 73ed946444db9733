"""The TCP-like network: order, latency, partitions, breaks, refusals, FIN, box crashes."""

from __future__ import annotations

import random

from sim.network import Conn, Endpoint, Network, NetworkParams
from sim.scheduler import Scheduler


class _Log:
    def __init__(self, box: str) -> None:
        self.messages: list[tuple[int, object]] = []
        self.closed: list[tuple[int, str]] = []
        self.opened: list[int] = []
        self.box = box

    def endpoint(self, sched: Scheduler) -> Endpoint:
        return Endpoint(
            box=self.box,
            on_message=lambda c, m: self.messages.append((sched.now, m)),
            on_close=lambda c, r: self.closed.append((sched.now, r)),
            on_open=lambda c: self.opened.append(sched.now),
        )


def _net(**kw: int | float) -> tuple[Scheduler, Network]:
    s = Scheduler()
    params = NetworkParams(latency_min_ms=1, latency_max_ms=5, **kw)  # type: ignore[arg-type]
    net = Network(s, random.Random(1), params)
    net.add_box("A", "10.0.0.1")
    net.add_box("B", "10.0.0.2")
    return s, net


def _pair(s: Scheduler, net: Network) -> tuple[Conn, _Log, _Log, Endpoint]:
    client, server = _Log("A"), _Log("B")
    ends: list[Endpoint] = []

    def accept(conn: Conn) -> Endpoint:
        end = server.endpoint(s)
        ends.append(end)
        return end

    net.listen("B", 6379, accept)
    cend = client.endpoint(s)
    conn = net.connect(cend, "10.0.0.2", 6379)
    s.run_until(s.now + 20)
    assert client.opened and ends
    return conn, client, server, ends[0]


def test_network_delivers_in_order_per_direction() -> None:
    s, net = _net()
    conn, _client, server, _ = _pair(s, net)
    for i in range(50):
        conn.send(conn.a, i)
    s.run_until(s.now + 100)
    assert [m for _, m in server.messages] == list(range(50))


def test_network_data_sent_while_connecting_is_delivered_after_accept() -> None:
    s, net = _net()
    server = _Log("B")
    net.listen("B", 1, lambda c: server.endpoint(s))
    client = _Log("A")
    conn = net.connect(client.endpoint(s), "10.0.0.2", 1)
    conn.send(conn.a, "early")
    s.run_until(50)
    assert [m for _, m in server.messages] == ["early"]


def test_network_refused_when_nothing_listens() -> None:
    s, net = _net()
    client = _Log("A")
    net.connect(client.endpoint(s), "10.0.0.2", 7)
    s.run_until(50)
    assert [r for _, r in client.closed] == ["Connection refused"]


def test_network_connect_times_out_across_a_partition() -> None:
    s, net = _net(connect_timeout_ms=3000)
    net.listen("B", 1, lambda c: _Log("B").endpoint(s))
    net.partition([["A"], ["B"]])
    client = _Log("A")
    net.connect(client.endpoint(s), "10.0.0.2", 1)
    s.run_until(10_000)
    assert [r for _, r in client.closed] == ["Connection timed out"]
    assert 3000 <= client.closed[0][0] <= 5000


def test_network_partition_holds_data_and_heal_delivers_it() -> None:
    s, net = _net(break_after_ms=10_000)
    conn, client, server, _ = _pair(s, net)
    net.partition([["A"], ["B"]])
    conn.send(conn.a, "x")
    s.run_until(s.now + 5000)
    assert server.messages == []
    net.heal()
    s.run_until(s.now + 500)
    assert [m for _, m in server.messages] == ["x"]
    assert client.closed == [] and server.closed == []


def test_network_long_stall_breaks_the_connection_on_both_ends() -> None:
    s, net = _net(break_after_ms=2000)
    conn, client, server, _ = _pair(s, net)
    net.partition([["A"], ["B"]])
    conn.send(conn.a, "x")
    s.run_until(s.now + 3000)
    assert [r for _, r in client.closed] == ["Connection timed out"]
    assert [r for _, r in server.closed] == ["Connection timed out"]


def test_network_one_way_cut_delivers_the_other_way() -> None:
    s, net = _net()
    conn, client, server, send = _pair(s, net)
    net.cut("A", "B")
    conn.send(conn.a, "to-b")
    conn.send(send, "to-a")
    s.run_until(s.now + 100)
    assert [m for _, m in client.messages] == ["to-a"]
    assert server.messages == []


def test_network_close_sends_fin_after_queued_data() -> None:
    s, net = _net()
    conn, client, server, send = _pair(s, net)
    conn.send(send, "last")
    conn.close(send)
    s.run_until(s.now + 100)
    assert [m for _, m in client.messages] == ["last"]
    assert [r for _, r in client.closed] == ["Server closed the connection"]
    assert server.closed == []


def test_network_vanished_box_is_found_out_by_rst_after_it_returns() -> None:
    s, net = _net(break_after_ms=60_000)
    conn, client, _server, send = _pair(s, net)
    net.boxes["B"].up = False
    conn.vanish(send)
    conn.send(conn.a, "x")
    s.run_until(s.now + 2000)
    assert client.closed == []
    net.boxes["B"].up = True
    s.run_until(s.now + 1000)
    assert [r for _, r in client.closed] == ["Connection reset by peer"]


def test_network_loss_delays_but_never_reorders() -> None:
    s, net = _net(loss=0.3)
    conn, _client, server, _ = _pair(s, net)
    for i in range(30):
        conn.send(conn.a, i)
    s.run_until(s.now + 20_000)
    assert [m for _, m in server.messages] == list(range(30))

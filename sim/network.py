"""The simulated network: boxes, TCP-like connections, latency, loss and partitions.

Rules of this module:

* Processes live on *boxes*; a box has one IP address. Processes on one box always
  reach each other (loopback) while the box is up. Partitions cut box-to-box paths,
  one way or both ways.
* A connection behaves like TCP as far as the sentinel can tell:
  - messages are delivered in order per direction, each after the path's latency;
  - a message that meets a cut path (or is "lost") is retransmitted every
    ``rto_ms``; when a direction has been stalled for ``break_after_ms`` the
    connection breaks and both ends hear ``Connection timed out``;
  - a connect to a box that can't be reached times out after ``connect_timeout_ms``;
    to a box that is up but where nothing listens it is refused after one round trip;
  - a process that closes (or crashes: the kernel closes its sockets) sends a FIN
    after its queued data; the far end hears ``Server closed the connection``;
  - a box that crashes sends nothing; the far end learns when its own data stalls
    (timed out) or, once the box is back, from the RST its data provokes.
* Every random draw comes from the one ``random.Random`` the world gives us.
* The network never iterates over a set; partitions are kept in a dict.
"""

from __future__ import annotations

import collections
import random
from collections.abc import Callable
from typing import Final

import attrs

from sim.scheduler import Scheduler

__all__ = ["Box", "Conn", "Endpoint", "Network", "NetworkParams"]

#: Error texts, as the trio runtime reports them in ``LinkDropped``.
REFUSED: Final = "Connection refused"
TIMED_OUT: Final = "Connection timed out"
CLOSED: Final = "Server closed the connection"
RESET: Final = "Connection reset by peer"
NO_ROUTE: Final = "No route to host"


def _noop_open(conn: Conn) -> None:
    del conn


def _run_now(action: Callable[[], None]) -> None:
    action()


@attrs.frozen(kw_only=True)
class NetworkParams:
    """Timing of the simulated network, in milliseconds."""

    #: One-way latency between two boxes: uniform in [min, max].
    latency_min_ms: int = 1
    latency_max_ms: int = 3
    #: Probability that a transmission is lost (it is retransmitted after rto_ms).
    loss: float = 0.0
    rto_ms: int = 200
    #: A direction stalled this long breaks the connection.
    break_after_ms: int = 30_000
    #: A connect that gets no answer fails after this.
    connect_timeout_ms: int = 10_000


@attrs.define(eq=False)
class Box:
    """A machine: one IP address, up or crashed."""

    name: str
    ip: str
    up: bool = True


@attrs.define(eq=False)
class Endpoint:
    """One end of a connection, owned by a process.

    ``gate`` lets a paused process hold deliveries until it resumes (DEBUG SLEEP,
    SIGSTOP); by default deliveries run at once.
    """

    box: str
    on_message: Callable[[Conn, object], None]
    on_close: Callable[[Conn, str], None]
    on_open: Callable[[Conn], None] = _noop_open
    gate: Callable[[Callable[[], None]], None] = _run_now


class _Direction:
    """The in-order queue of one direction of a connection."""

    def __init__(self) -> None:
        self.queue: collections.deque[tuple[int, object]] = collections.deque()
        self.pumping = False
        self.stall_since: int | None = None


#: Marker for the FIN that follows a close.
_FIN: Final = object()

Listener = Callable[["Conn"], Endpoint | None]


class Conn:
    """A TCP-like connection between a client endpoint ``a`` and a server endpoint ``b``."""

    def __init__(self, net: Network, cid: int, a: Endpoint, dst_box: str, port: int) -> None:
        self.net = net
        self.id = cid
        self.a = a
        self.b: Endpoint | None = None
        self.dst_box = dst_box
        self.port = port
        #: "connecting", "open", "closed"
        self.state = "connecting"
        self._dirs = (_Direction(), _Direction())
        #: Ends that vanished with their box (no FIN was sent).
        self._vanished: list[Endpoint] = []
        #: Ends that closed (their FIN is queued); they get no further callbacks.
        self._closed_by: list[Endpoint] = []
        #: The client's local port (for getsockname).
        self.local_port = 40_000 + cid
        #: What the client wrote before the connection was accepted (sent on accept).
        self._early: list[object] = []

    def __repr__(self) -> str:
        return f"Conn({self.id}, {self.a.box}->{self.dst_box}:{self.port}, {self.state})"

    def _index(self, sender: Endpoint) -> int:
        return 0 if sender is self.a else 1

    def _other(self, end: Endpoint) -> Endpoint | None:
        return self.b if end is self.a else self.a

    def alive_for(self, end: Endpoint) -> bool:
        """True while ``end`` may still send on this connection."""
        return self.state == "open" and end not in self._closed_by and end not in self._vanished

    def send(self, sender: Endpoint, msg: object) -> None:
        """Queue ``msg`` from ``sender`` to the other end (dropped if not open)."""
        if self.state == "connecting" and sender is self.a and sender not in self._closed_by:
            self._early.append(msg)
            return
        if not self.alive_for(sender):
            return
        self._enqueue(self._index(sender), msg)

    def _enqueue(self, index: int, msg: object) -> None:
        src, dst = self._boxes(index)
        ready = self.net.scheduler.now + self.net.latency(src, dst)
        d = self._dirs[index]
        if d.queue:
            ready = max(ready, d.queue[-1][0])
        d.queue.append((ready, msg))
        if not d.pumping:
            d.pumping = True
            self.net.scheduler.at(ready, lambda: self._pump(index))

    def _boxes(self, index: int) -> tuple[str, str]:
        return (self.a.box, self.dst_box) if index == 0 else (self.dst_box, self.a.box)

    def _pump(self, index: int) -> None:
        d = self._dirs[index]
        net = self.net
        now = net.scheduler.now
        if self.state == "closed" or not d.queue:
            d.pumping = False
            return
        src, dst = self._boxes(index)
        receiver = self.b if index == 0 else self.a
        assert receiver is not None
        if not net.path_open(src, dst) or (net.params.loss and net.rng.random() < net.params.loss):
            if d.stall_since is None:
                d.stall_since = now
            if now - d.stall_since >= net.params.break_after_ms:
                self._break(TIMED_OUT)
                return
            net.scheduler.after(net.params.rto_ms, lambda: self._pump(index))
            return
        d.stall_since = None
        if receiver in self._vanished:
            # The box came back without this socket: the data provokes an RST.
            self._break(RESET)
            return
        _, msg = d.queue.popleft()
        if msg is _FIN:
            self.state = "closed"
            d.queue.clear()
            if receiver not in self._closed_by:
                receiver.gate(lambda: receiver.on_close(self, CLOSED))
        elif receiver not in self._closed_by:
            receiver.gate(lambda: receiver.on_message(self, msg))
        if d.queue and self.state != "closed":
            net.scheduler.at(max(now, d.queue[0][0]), lambda: self._pump(index))
        else:
            d.pumping = False

    def _break(self, reason: str) -> None:
        """The connection failed: tell every end that is still listening."""
        if self.state == "closed":
            return
        self.state = "closed"
        for d in self._dirs:
            d.queue.clear()
        for end in (self.a, self.b):
            if end is None or end in self._closed_by or end in self._vanished:
                continue
            end.gate(lambda end=end: end.on_close(self, reason))  # type: ignore[misc]

    def close(self, closer: Endpoint) -> None:
        """``closer`` closes its socket: a FIN follows its queued data; no callback for it."""
        if self.state == "closed" or closer in self._closed_by:
            return
        self._closed_by.append(closer)
        if self.state == "connecting":
            self.state = "closed"
            return
        other = self._other(closer)
        if other is None or other in self._closed_by or other in self._vanished:
            self.state = "closed"
            return
        self._enqueue(self._index(closer), _FIN)

    def vanish(self, end: Endpoint) -> None:
        """``end``'s box crashed: nothing is sent; the far end finds out later."""
        if self.state == "closed":
            return
        self._vanished.append(end)
        if self.state == "connecting":
            if end is self.a:
                self.state = "closed"
            return
        other = self._other(end)
        if other is None or other in self._closed_by:
            self.state = "closed"


class Network:
    """Boxes, listeners, partitions and connections."""

    def __init__(self, scheduler: Scheduler, rng: random.Random, params: NetworkParams) -> None:
        self.scheduler = scheduler
        self.rng = rng
        self.params = params
        self.boxes: dict[str, Box] = {}
        self._by_ip: dict[str, Box] = {}
        self._listeners: dict[tuple[str, int], Listener] = {}
        #: (from box, to box) -> True for every cut one-way path.
        self._cut: dict[tuple[str, str], bool] = {}
        self._next_conn = 0
        #: Per-pair latency overrides: (from, to) -> (min, max).
        self.pair_latency: dict[tuple[str, str], tuple[int, int]] = {}

    # --- topology ----------------------------------------------------------------

    def add_box(self, name: str, ip: str) -> Box:
        """Add a machine."""
        box = Box(name=name, ip=ip)
        self.boxes[name] = box
        self._by_ip[ip] = box
        return box

    def box_of_ip(self, ip: str) -> Box | None:
        """The box that has ``ip``."""
        return self._by_ip.get(ip)

    def listen(self, box: str, port: int, listener: Listener) -> None:
        """Accept connections to ``box:port``; ``listener`` returns None to refuse."""
        self._listeners[(self.boxes[box].ip, port)] = listener

    # --- partitions --------------------------------------------------------------

    def path_open(self, src: str, dst: str) -> bool:
        """Can a packet go from box ``src`` to box ``dst`` now?"""
        if not self.boxes[src].up or not self.boxes[dst].up:
            return False
        return src == dst or (src, dst) not in self._cut

    def cut(self, src: str, dst: str) -> None:
        """Block packets from ``src`` to ``dst`` (one way)."""
        if src != dst:
            self._cut[(src, dst)] = True

    def restore(self, src: str, dst: str) -> None:
        """Let packets from ``src`` to ``dst`` through again."""
        self._cut.pop((src, dst), None)

    def partition(self, groups: list[list[str]]) -> None:
        """Cut every path between boxes of different groups, both ways (adds to cuts)."""
        for i, group in enumerate(groups):
            for other in groups[i + 1 :]:
                for a in group:
                    for b in other:
                        self.cut(a, b)
                        self.cut(b, a)

    def isolate(self, box: str) -> None:
        """Cut ``box`` off from every other box, both ways."""
        for other in self.boxes:
            if other != box:
                self.cut(box, other)
                self.cut(other, box)

    def heal(self) -> None:
        """Remove every cut."""
        self._cut.clear()

    def cuts(self) -> list[tuple[str, str]]:
        """The cut paths, in the order they were cut."""
        return list(self._cut)

    # --- timing ------------------------------------------------------------------

    def latency(self, src: str, dst: str) -> int:
        """One-way latency for a packet from ``src`` to ``dst`` (0 on loopback)."""
        if src == dst:
            return 0
        low, high = self.pair_latency.get(
            (src, dst), (self.params.latency_min_ms, self.params.latency_max_ms)
        )
        return self.rng.randint(low, high)

    # --- connections -------------------------------------------------------------

    def connect(self, client: Endpoint, host: str, port: int) -> Conn:
        """Open a connection from ``client`` to ``host:port``; outcome via callbacks."""
        self._next_conn += 1
        dst = self._by_ip.get(host)
        conn = Conn(self, self._next_conn, client, dst.name if dst else client.box, port)
        if dst is None:
            self.scheduler.after(1, lambda: self._fail(conn, NO_ROUTE))
            return conn
        self._try_syn(conn, host, self.scheduler.now)
        return conn

    def _fail(self, conn: Conn, reason: str) -> None:
        if conn.state != "connecting":
            return
        conn.state = "closed"
        conn.a.gate(lambda: conn.a.on_close(conn, reason))

    def _try_syn(self, conn: Conn, host: str, started: int) -> None:
        src, dst = conn.a.box, conn.dst_box
        there = self.latency(src, dst)
        back = self.latency(dst, src)

        def arrive() -> None:
            if conn.state != "connecting":
                return
            if not (self.path_open(src, dst) and self.path_open(dst, src)):
                if self.scheduler.now - started >= self.params.connect_timeout_ms:
                    self._fail(conn, TIMED_OUT)
                else:
                    self.scheduler.after(1000, lambda: self._try_syn(conn, host, started))
                return
            listener = self._listeners.get((host, conn.port))
            server = listener(conn) if listener is not None else None
            if server is None:
                self.scheduler.after(max(back, 1), lambda: self._fail(conn, REFUSED))
                return
            conn.b = server
            conn.state = "open"
            early, conn._early = conn._early, []
            for msg in early:
                conn._enqueue(0, msg)
            server.gate(lambda: server.on_open(conn))

            def established() -> None:
                if conn.alive_for(conn.a):
                    conn.a.gate(lambda: conn.a.on_open(conn))

            self.scheduler.after(back, established)

        self.scheduler.after(there, arrive)

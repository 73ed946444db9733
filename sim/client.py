"""A client application: finds the master through the sentinels and keeps writing.

Rules of this module:

* Discovery works like redis-py's ``Sentinel.master_for``: ask the sentinels in
  order ``SENTINEL get-master-addr-by-name <name>``; the first that answers with an
  address wins (and moves to the front of the list); then connect there and check
  ``ROLE`` says master before writing. Any error, timeout or closed connection
  starts discovery again.
* Every write has a unique key (``<client>:<n>``). A write is *acknowledged* when
  ``+OK`` came back. The world checks at the end which acknowledged writes the
  final master still has: Jepsen-style lost-write accounting.
* One request is in flight at a time; a reply that does not come within
  ``timeout_ms`` is a failure (the connection is dropped, as redis-py does on a
  socket timeout), and the write's fate is unknown (not counted as acknowledged).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from pysentinel.core.values import ErrorReply
from sim.network import Conn, Endpoint, Network
from sim.process import Process
from sim.scheduler import Timer

__all__ = ["SimClient", "WriteRecord"]


@attrs.define(eq=False)
class WriteRecord:
    """One SET the client sent."""

    key: str
    value: str
    sent_at: int
    #: "ok", "error: <text>", "timeout", "closed", or "" while in flight.
    outcome: str = ""
    acked_at: int | None = None
    #: ``ip:port`` it was sent to.
    server: str = ""


class SimClient(Process):
    """An application writing to the master it discovers through the sentinels."""

    def __init__(
        self,
        name: str,
        box: str,
        net: Network,
        *,
        sentinels: list[tuple[str, int]],
        master_name: str,
        write_interval_ms: int = 100,
        timeout_ms: int = 1_000,
        on_note: Callable[[str, str], None] | None = None,
        password: str | None = None,
    ) -> None:
        super().__init__(name, box, 0, net)
        self.sentinels = list(sentinels)
        self.master_name = master_name
        self.write_interval_ms = write_interval_ms
        self.timeout_ms = timeout_ms
        self.writes: list[WriteRecord] = []
        self._n = 0
        self._note = on_note
        self.password = password
        self._conn: Conn | None = None
        self._end: Endpoint | None = None
        self._waiting: Callable[[object], None] | None = None
        self._timeout = Timer(self.scheduler, lambda: self.gate(self._timed_out))
        self._idx = 0
        #: The master we currently write to, ``ip:port``.
        self.current = ""
        self.active = False

    # --- control -------------------------------------------------------------------

    def start(self) -> None:
        """Begin discovering and writing."""
        self.active = True
        self._discover(0)

    def stop(self) -> None:
        """Stop sending (the last request may still be answered)."""
        self.active = False
        self._hang_up()

    def on_crash(self) -> None:
        self._conn = None
        self._end = None
        self._waiting = None
        self._timeout.cancel()

    def on_restart(self) -> None:
        if self.active:
            self._discover(0)

    # --- one request at a time -----------------------------------------------------------

    def _hang_up(self) -> None:
        if self._conn is not None and self._end is not None:
            self._conn.close(self._end)
            self.forget(self._conn)
        self._conn = None
        self._end = None
        self._waiting = None
        self._timeout.cancel()

    def _open(
        self, host: str, port: int, first: tuple[bytes, ...], then: Callable[[object], None]
    ) -> None:
        """Connect to ``host:port``, send ``first``, hand the reply (or failure) to ``then``."""
        self._hang_up()

        def on_message(c: Conn, msg: object) -> None:
            if c is self._conn:
                self._answered(msg)

        def on_close(c: Conn, reason: str) -> None:
            if c is self._conn:
                self.forget(c)
                self._conn = None
                self._end = None
                self._answered(_Failure(reason))

        end = self.endpoint(on_message, on_close)
        conn = self.net.connect(end, host, port)
        self._conn, self._end = conn, end
        self.track(conn, end)
        self._request(first, then)

    def _request(self, argv: tuple[bytes, ...], then: Callable[[object], None]) -> None:
        assert self._conn is not None and self._end is not None
        self._waiting = then
        self._conn.send(self._end, argv)
        self._timeout.arm(self.scheduler.now + self.timeout_ms)

    def _answered(self, msg: object) -> None:
        then = self._waiting
        if then is None:
            return
        self._waiting = None
        self._timeout.cancel()
        then(msg)

    def _timed_out(self) -> None:
        if not self.up:
            return
        then = self._waiting
        self._hang_up()
        if then is not None:
            then(_Failure("timeout"))

    # --- discovery ---------------------------------------------------------------------

    def _discover(self, idx: int) -> None:
        if not self.active or not self.up:
            return
        if idx >= len(self.sentinels):
            # Every sentinel failed: try again in a second (redis-py raises MasterNotFoundError).
            self._later(1_000, lambda: self._discover(0))
            return
        host, port = self.sentinels[idx]
        argv = (b"SENTINEL", b"get-master-addr-by-name", self.master_name.encode())
        self._open(host, port, argv, lambda reply: self._discovered(idx, reply))

    def _later(self, delay: int, action: Callable[[], None]) -> None:
        """Run ``action`` after ``delay`` ms, unless we crashed meanwhile."""
        life = self.life

        def fire() -> None:
            if life == self.life:
                self.gate(action)

        self.scheduler.after(delay, fire)

    def _discovered(self, idx: int, reply: object) -> None:
        if (
            isinstance(reply, tuple)
            and len(reply) == 2
            and isinstance(reply[0], bytes)
            and isinstance(reply[1], bytes)
        ):
            # redis-py moves the sentinel that answered to the front.
            self.sentinels.insert(0, self.sentinels.pop(idx))
            host, port = reply[0].decode(), int(reply[1])
            if self.password is None:
                self._open(host, port, (b"ROLE",), lambda r: self._role_checked(host, port, r))
            else:
                auth = (b"AUTH", self.password.encode())
                self._open(host, port, auth, lambda r: self._authed(host, port, r))
            return
        self._discover(idx + 1)

    def _authed(self, host: str, port: int, reply: object) -> None:
        if reply == b"OK":
            self._request((b"ROLE",), lambda r: self._role_checked(host, port, r))
            return
        self._hang_up()
        self._later(self.write_interval_ms, lambda: self._discover(0))

    def _role_checked(self, host: str, port: int, reply: object) -> None:
        if isinstance(reply, tuple) and reply and reply[0] == b"master":
            addr = f"{host}:{port}"
            if addr != self.current and self._note is not None:
                self._note(self.name, f"client {self.name} now writes to {addr}")
            self.current = addr
            self._write()
            return
        self._hang_up()
        self._later(self.write_interval_ms, lambda: self._discover(0))

    # --- writing -----------------------------------------------------------------------

    def _write(self) -> None:
        if not self.active or not self.up:
            return
        if self._conn is None:
            # The connection was closed while idle (e.g. CLIENT KILL): find the master again.
            self._discover(0)
            return
        self._n += 1
        record = WriteRecord(
            key=f"{self.name}:{self._n}",
            value=str(self._n),
            sent_at=self.scheduler.now,
            server=self.current,
        )
        self.writes.append(record)
        argv = (b"SET", record.key.encode(), record.value.encode())
        self._request(argv, lambda reply: self._written(record, reply))

    def _written(self, record: WriteRecord, reply: object) -> None:
        now = self.scheduler.now
        if reply == b"OK":
            record.outcome = "ok"
            record.acked_at = now
            self._later(self.write_interval_ms, self._write)
            return
        if isinstance(reply, ErrorReply):
            record.outcome = "error: " + reply.message.split(" ", 1)[0]
            if reply.message.startswith("NOREPLICAS"):
                self._later(self.write_interval_ms, self._write)
                return
        elif isinstance(reply, _Failure):
            record.outcome = reply.reason
        else:
            record.outcome = "error: unexpected reply"
        self._hang_up()
        self._later(self.write_interval_ms, lambda: self._discover(0))

    # --- accounting --------------------------------------------------------------------

    def acknowledged(self) -> list[WriteRecord]:
        """Writes that got ``+OK``."""
        return [w for w in self.writes if w.outcome == "ok"]


@attrs.frozen
class _Failure:
    """A request that got no reply: timeout or closed connection."""

    reason: str

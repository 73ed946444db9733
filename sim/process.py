"""What every simulated process shares: being up or crashed, paused or running.

Rules of this module:

* A crashed process receives nothing; its sockets were closed by the kernel (FIN),
  unless its whole box went down (then they simply vanish, see ``network.py``).
* A paused process (SIGSTOP, ``DEBUG SLEEP``, a VM pause) holds every delivery and
  runs them in arrival order when it resumes, exactly like a stopped process whose
  kernel keeps buffering its sockets.
"""

from __future__ import annotations

import collections
from collections.abc import Callable

from sim.network import Conn, Endpoint, Network
from sim.scheduler import Scheduler

__all__ = ["Process"]


class Process:
    """A process on a box, listening on one port."""

    def __init__(self, name: str, box: str, port: int, net: Network) -> None:
        self.name = name
        self.box = box
        self.port = port
        self.net = net
        self.scheduler: Scheduler = net.scheduler
        self.up = True
        self.paused = False
        self._held: collections.deque[Callable[[], None]] = collections.deque()
        #: Every connection this process has an end of, with that end.
        self.conns: dict[int, tuple[Conn, Endpoint]] = {}
        #: Incremented at each crash: callbacks of an older life are ignored.
        self.life = 0
        #: Incremented at each pause: only the latest pause's end resumes us.
        self._pause_token = 0

    @property
    def ip(self) -> str:
        """The box's address."""
        return self.net.boxes[self.box].ip

    def gate(self, action: Callable[[], None]) -> None:
        """Run a delivery now, hold it while paused, drop it while crashed."""
        if not self.up:
            return
        if self.paused:
            self._held.append(action)
            return
        action()

    def endpoint(
        self,
        on_message: Callable[[Conn, object], None],
        on_close: Callable[[Conn, str], None],
        on_open: Callable[[Conn], None] | None = None,
    ) -> Endpoint:
        """A new connection end owned by this process (deliveries go through ``gate``)."""
        life = self.life

        def guarded(action: Callable[[], None]) -> None:
            if self.life == life:
                self.gate(action)

        end = Endpoint(box=self.box, on_message=on_message, on_close=on_close, gate=guarded)
        if on_open is not None:
            end.on_open = on_open
        return end

    def track(self, conn: Conn, end: Endpoint) -> None:
        """Remember a connection so a crash can close it."""
        self.conns[conn.id] = (conn, end)

    def forget(self, conn: Conn) -> None:
        """The connection is gone."""
        self.conns.pop(conn.id, None)

    def pause(self, ms: int) -> None:
        """Stop running for ``ms`` milliseconds (deliveries are held)."""
        if not self.up:
            return
        self.paused = True
        life = self.life
        self._pause_token += 1
        token = self._pause_token
        self.scheduler.after(ms, lambda: self._resume(life, token))

    def resume_now(self) -> None:
        """SIGCONT: run again at once (the pending end of the pause does nothing)."""
        self._pause_token += 1
        self._resume(self.life, self._pause_token)

    def _resume(self, life: int, token: int) -> None:
        if life != self.life or not self.up or token != self._pause_token or not self.paused:
            return
        self.paused = False
        self.on_resume()
        while self._held and not self.paused and self.up:
            self._held.popleft()()

    def on_resume(self) -> None:
        """Hook: the process runs again (timers catch up)."""

    def crash(self, *, box_down: bool = False) -> None:
        """Die. The kernel closes our sockets (FIN) unless the box itself went down."""
        if not self.up:
            return
        self.up = False
        self.paused = False
        self._held.clear()
        self.life += 1
        conns = list(self.conns.values())
        self.conns.clear()
        for conn, end in conns:
            if box_down:
                conn.vanish(end)
            else:
                conn.close(end)
        self.on_crash()

    def on_crash(self) -> None:
        """Hook: forget volatile state."""

    def restart(self) -> None:
        """Start again from persisted state."""
        if self.up:
            return
        self.up = True
        self.on_restart()

    def on_restart(self) -> None:
        """Hook: rebuild state."""

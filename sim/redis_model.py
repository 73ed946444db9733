"""A fake redis-server 7.0: enough of it to be monitored, failed over and written to.

Rules of this module:

* It answers what a sentinel sends (spec §5.3, §5.4, §8.4: AUTH, CLIENT SETNAME /
  KILL, PING, INFO, SUBSCRIBE, PUBLISH, SLAVEOF / REPLICAOF, MULTI / EXEC,
  CONFIG REWRITE, SCRIPT KILL, DEBUG SLEEP) and what a client sends (ROLE, SET,
  GET), with redis-server 7.0's reply shapes and INFO text.
* Replies are ``InReply`` data (what hiredis would decode), not bytes.
* Replication is asynchronous and goes over simulated connections, so partitions
  delay it and break it: a replica sends PSYNC with its replication id and offset,
  the master answers with a full resync (a copy of the data set) or a continuation
  from its backlog (also through ``master_replid2`` after a promotion, as PSYNC2
  does), then streams every write. Replicas ACK every second; the master's
  ``lag`` and ``min-replicas-to-write`` / ``min-replicas-max-lag`` follow the ACKs.
* A crash keeps the data set and the replication offset (as with an fsynced AOF)
  unless ``lose_data`` is set; the role comes back from the last CONFIG REWRITE.
* Every random draw (run ids, replication ids) comes from the ``random.Random``
  the world hands in.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Final

import attrs

from pysentinel.core.values import ErrorReply, InReply
from sim.network import Conn, Endpoint, Network
from sim.process import Process

__all__ = [
    "Ack",
    "Continue",
    "FullResync",
    "Psync",
    "RedisModel",
    "RedisSettings",
    "ReplPing",
    "Write",
]

HELLO_CHANNEL: Final = b"__sentinel__:hello"
#: A replica (and a master) drops the replication link after this much silence.
REPL_TIMEOUT_MS: Final = 60_000
#: A master pings its replicas this often (repl-ping-replica-period).
REPL_PING_PERIOD_MS: Final = 10_000
#: replicationCron's period.
CRON_MS: Final = 1_000
ZERO_REPLID: Final = "0" * 40
_OK: Final = b"OK"


def _hex40(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(40))


def _unknown(argv: tuple[bytes, ...]) -> str:
    name = argv[0].decode(errors="replace") if argv else ""
    return f"ERR unknown command '{name}', with args beginning with: "


# --- replication messages (what flows on a replication connection) ---------------


@attrs.frozen
class Psync:
    """Replica -> master: REPLCONF listening-port + PSYNC <replid> <offset>."""

    replid: str
    offset: int
    port: int


@attrs.frozen
class FullResync:
    """Master -> replica: +FULLRESYNC and the RDB payload."""

    replid: str
    offset: int
    data: tuple[tuple[str, str], ...]


@attrs.frozen
class Continue:
    """Master -> replica: +CONTINUE <replid>; the backlog follows as writes."""

    replid: str


@attrs.frozen
class Write:
    """One write command in the replication stream; ``offset`` is after it."""

    offset: int
    key: str
    value: str


@attrs.frozen
class ReplPing:
    """The master's periodic PING in the stream."""


@attrs.frozen
class Ack:
    """Replica -> master: REPLCONF ACK <offset>."""

    offset: int


@attrs.frozen(kw_only=True)
class RedisSettings:
    """The redis.conf directives the model honours."""

    replicaof: tuple[str, int] | None = None
    replica_priority: int = 100
    replica_announced: bool = True
    min_replicas_to_write: int = 0
    min_replicas_max_lag: int = 10
    #: ``requirepass`` (replication between the models is trusted: same password).
    requirepass: str | None = None
    #: ``rename-command``: (original, new name), new name "" disables the command.
    renames: tuple[tuple[str, str], ...] = ()


@attrs.define(eq=False)
class _Client:
    """One inbound connection's state."""

    conn: Conn
    end: Endpoint
    #: "normal", "pubsub", "replica"
    kind: str = "normal"
    name: str = ""
    authed: bool = False
    multi: list[tuple[bytes, ...]] | None = None


@attrs.define(eq=False)
class _ReplicaLink:
    """A connected replica, as its master sees it."""

    client: _Client
    ip: str
    port: int
    ack_offset: int
    last_ack: int
    online: bool = True


class RedisModel(Process):
    """One redis-server."""

    def __init__(
        self,
        name: str,
        box: str,
        port: int,
        net: Network,
        *,
        rng: random.Random,
        settings: RedisSettings,
        pid: int,
    ) -> None:
        super().__init__(name, box, port, net)
        self.rng = rng
        self.settings = settings
        self.pid = pid
        #: What the config file says (updated by CONFIG REWRITE).
        self.persisted_replicaof = settings.replicaof
        self.lose_data_on_crash = False
        #: Where log lines go: (level char, text); the world sends them to the trace.
        self.on_log: Callable[[str, str], None] | None = None
        self.data: dict[str, str] = {}
        self.replid = _hex40(rng)
        self.replid2 = ZERO_REPLID
        self.second_offset = -1
        self.offset = 0
        #: (offset after, key, value) of every write since ``backlog_start``.
        self.backlog: list[tuple[int, str, str]] = []
        self.backlog_start = 0
        self.clients: dict[int, _Client] = {}
        self.replicas: dict[int, _ReplicaLink] = {}
        self._boot()
        net.listen(box, port, self._accept)

    # --- life cycle -----------------------------------------------------------------

    def _boot(self) -> None:
        now = self.scheduler.now
        self.run_id = _hex40(self.rng)
        self.started_at = now
        self.master: tuple[str, int] | None = self.persisted_replicaof
        self.master_conn: Conn | None = None
        self.master_end: Endpoint | None = None
        self.link_up = False
        self.link_down_since: int | None = None
        self.last_master_io = now
        self._last_ping_sent = now
        self._connecting = False
        self.clients = {}
        self.replicas = {}
        life = self.life
        self.scheduler.after(CRON_MS, lambda: self._cron(life))

    def on_crash(self) -> None:
        if self.lose_data_on_crash:
            self.data = {}
            self.replid = _hex40(self.rng)
            self.replid2 = ZERO_REPLID
            self.second_offset = -1
            self.offset = 0
            self.backlog = []
            self.backlog_start = 0

    def on_restart(self) -> None:
        self._boot()

    def _log(self, level: str, text: str) -> None:
        if self.on_log is not None:
            self.on_log(level, text)

    @property
    def role(self) -> str:
        """``master`` or ``slave`` (wire names)."""
        return "master" if self.master is None else "slave"

    # --- inbound connections ----------------------------------------------------------

    def _accept(self, conn: Conn) -> Endpoint | None:
        if not self.up:
            return None
        holder: list[_Client] = []

        def on_message(c: Conn, msg: object) -> None:
            if holder:
                self._on_client_message(holder[0], msg)

        def on_close(c: Conn, reason: str) -> None:
            self._drop_client(c)

        end = self.endpoint(on_message, on_close)
        client = _Client(conn=conn, end=end)
        holder.append(client)
        self.clients[conn.id] = client
        self.track(conn, end)
        return end

    def _drop_client(self, conn: Conn) -> None:
        self.clients.pop(conn.id, None)
        self.replicas.pop(conn.id, None)
        self.forget(conn)

    def _kill_client(self, client: _Client) -> None:
        client.conn.close(client.end)
        self._drop_client(client.conn)

    def _reply(self, client: _Client, value: InReply) -> None:
        client.conn.send(client.end, value)

    def _on_client_message(self, client: _Client, msg: object) -> None:
        if isinstance(msg, Psync):
            self._serve_psync(client, msg)
            return
        if isinstance(msg, Ack):
            link = self.replicas.get(client.conn.id)
            if link is not None:
                link.ack_offset = msg.offset
                link.last_ack = self.scheduler.now
            return
        if not isinstance(msg, tuple) or not msg:
            return
        argv: tuple[bytes, ...] = self._renamed(msg)
        if not argv:
            self._reply(client, ErrorReply(_unknown(msg)))
            return
        locked = self.settings.requirepass is not None and not client.authed
        if locked and argv[0].upper() != b"AUTH":
            self._reply(client, ErrorReply("NOAUTH Authentication required."))
            return
        name = argv[0].upper()
        if client.multi is not None and name not in (b"EXEC", b"MULTI", b"DISCARD"):
            client.multi.append(argv)
            self._reply(client, b"QUEUED")
            return
        if name == b"MULTI":
            if client.multi is not None:
                self._reply(client, ErrorReply("ERR MULTI calls can not be nested"))
                return
            client.multi = []
            self._reply(client, _OK)
            return
        if name == b"EXEC":
            if client.multi is None:
                self._reply(client, ErrorReply("ERR EXEC without MULTI"))
                return
            queued, client.multi = client.multi, None
            after: list[_Client] = []
            results = tuple(self._execute(client, a, after) for a in queued)
            self._reply(client, results)
            for victim in after:
                self._kill_client(victim)
            return
        if name == b"DEBUG" and len(argv) == 3 and argv[1].upper() == b"SLEEP":
            ms = int(float(argv[2]) * 1000)
            self.pause(ms)
            # The reply goes out when the sleep ends: queue it behind the pause.
            self.gate(lambda: self._reply(client, _OK))
            return
        after = []
        result = self._execute(client, argv, after)
        self._reply(client, result)
        for victim in after:
            self._kill_client(victim)

    def _execute(self, client: _Client, argv: tuple[bytes, ...], after: list[_Client]) -> InReply:
        """Run one command; clients to kill are appended to ``after`` (after the reply)."""
        name = argv[0].upper()
        args = argv[1:]
        if name == b"PING":
            return b"PONG"
        if name == b"AUTH":
            if self.settings.requirepass is None:
                return ErrorReply(
                    "ERR AUTH <password> called without any password configured for the"
                    " default user. Are you sure your configuration is correct?"
                )
            if args and args[-1].decode() == self.settings.requirepass:
                client.authed = True
                return _OK
            return ErrorReply("WRONGPASS invalid username-password pair or user is disabled.")
        if name == b"CLIENT":
            return self._client_command(client, args, after)
        if name == b"INFO":
            return self.info_text().encode()
        if name == b"SUBSCRIBE":
            client.kind = "pubsub"
            return (b"subscribe", args[0] if args else b"", 1)
        if name == b"PUBLISH" and len(args) == 2:
            return self.publish(args[0], args[1])
        if name in (b"SLAVEOF", b"REPLICAOF") and len(args) == 2:
            return self._replicaof(args[0].decode(), args[1].decode())
        if name == b"CONFIG" and args and args[0].upper() == b"REWRITE":
            self.persisted_replicaof = self.master
            return _OK
        if name == b"SCRIPT" and args and args[0].upper() == b"KILL":
            return ErrorReply("NOTBUSY No scripts in execution right now.")
        if name == b"ROLE":
            return self.role_reply()
        if name == b"SET" and len(args) >= 2:
            return self.write(args[0].decode(), args[1].decode())
        if name == b"GET" and len(args) == 1:
            value = self.data.get(args[0].decode())
            return None if value is None else value.encode()
        return ErrorReply(_unknown(argv))

    def _renamed(self, argv: tuple[bytes, ...]) -> tuple[bytes, ...]:
        """``argv`` with its command name mapped back through rename-command; () when the
        name is unknown under the renames (renamed away, or disabled)."""
        renames = self.settings.renames
        if not renames:
            return argv
        name = argv[0].decode(errors="replace").upper()
        for original, new in renames:
            if new and name == new.upper():
                return (original.encode(), *argv[1:])
            if name == original.upper():
                return ()
        return argv

    def _client_command(
        self, client: _Client, args: tuple[bytes, ...], after: list[_Client]
    ) -> InReply:
        sub = args[0].upper() if args else b""
        if sub == b"SETNAME" and len(args) == 2:
            client.name = args[1].decode()
            return _OK
        if sub == b"KILL" and len(args) == 3 and args[1].upper() == b"TYPE":
            kind = args[2].decode().lower()
            victims = [c for c in self.clients.values() if c is not client and c.kind == kind]
            after.extend(victims)
            return len(victims)
        return ErrorReply("ERR syntax error")

    # --- pub/sub ---------------------------------------------------------------------

    def publish(self, channel: bytes, message: bytes) -> int:
        """Deliver ``message`` to our subscribers; the receiver count."""
        count = 0
        for c in list(self.clients.values()):
            if c.kind == "pubsub" and channel == HELLO_CHANNEL:
                c.conn.send(c.end, (b"message", channel, message))
                count += 1
        return count

    # --- writes ------------------------------------------------------------------------

    def good_replicas(self) -> int:
        """Replicas online whose last ACK is at most ``min-replicas-max-lag`` s old."""
        now = self.scheduler.now
        return sum(
            1
            for r in self.replicas.values()
            if r.online and (now - r.last_ack) // 1000 <= self.settings.min_replicas_max_lag
        )

    def write(self, key: str, value: str) -> InReply:
        """A client's SET."""
        if self.master is not None:
            return ErrorReply("READONLY You can't write against a read only replica.")
        need = self.settings.min_replicas_to_write
        if need and self.good_replicas() < need:
            return ErrorReply("NOREPLICAS Not enough good replicas to write.")
        self._apply(key, value)
        return _OK

    def _apply(self, key: str, value: str) -> None:
        self.data[key] = value
        self.offset += 30 + len(key) + len(value)
        self.backlog.append((self.offset, key, value))
        for r in list(self.replicas.values()):
            if r.online:
                r.client.conn.send(r.client.end, Write(self.offset, key, value))

    # --- replication: master side ------------------------------------------------------

    def _serve_psync(self, client: _Client, msg: Psync) -> None:
        client.kind = "replica"
        now = self.scheduler.now
        ip = self.net.boxes[client.conn.a.box].ip
        link = _ReplicaLink(
            client=client, ip=ip, port=msg.port, ack_offset=msg.offset, last_ack=now
        )
        self.replicas[client.conn.id] = link
        same = msg.replid == self.replid and msg.offset <= self.offset
        previous = msg.replid == self.replid2 and msg.offset <= self.second_offset
        if (same or previous) and msg.offset >= self.backlog_start:
            client.conn.send(client.end, Continue(self.replid))
            for offset, key, value in self.backlog:
                if offset > msg.offset:
                    client.conn.send(client.end, Write(offset, key, value))
        else:
            snapshot = tuple(self.data.items())
            client.conn.send(client.end, FullResync(self.replid, self.offset, snapshot))
            link.ack_offset = self.offset

    def _disconnect_replicas(self) -> None:
        for r in list(self.replicas.values()):
            self._kill_client(r.client)

    # --- replication: replica side -----------------------------------------------------

    def _replicaof(self, host: str, port_text: str) -> InReply:
        if host.upper() == "NO" and port_text.upper() == "ONE":
            if self.master is not None:
                self._drop_master_link()
                self.master = None
                self._log("*", "MASTER MODE enabled (user request)")
                self.replid2 = self.replid
                self.second_offset = self.offset
                self.replid = _hex40(self.rng)
                self._disconnect_replicas()
            return _OK
        try:
            port = int(port_text)
        except ValueError:
            return ErrorReply("ERR value is not an integer or out of range")
        if self.master == (host, port):
            return b"OK Already connected to specified master"
        self._drop_master_link()
        self.master = (host, port)
        self._log("*", f"REPLICAOF {host}:{port} enabled (user request)")
        self.link_down_since = None
        self._disconnect_replicas()
        self._connect_master()
        return _OK

    def _drop_master_link(self) -> None:
        if self.master_conn is not None and self.master_end is not None:
            self.master_conn.close(self.master_end)
            self.forget(self.master_conn)
        if self.link_up:
            self.link_down_since = self.scheduler.now
        self.master_conn = None
        self.master_end = None
        self.link_up = False
        self._connecting = False

    def _connect_master(self) -> None:
        if self.master is None or self.master_conn is not None:
            return
        host, port = self.master

        def on_open(c: Conn) -> None:
            if c is self.master_conn and self.master_end is not None:
                c.send(self.master_end, Psync(self.replid, self.offset, self.port))

        def on_message(c: Conn, msg: object) -> None:
            if c is self.master_conn:
                self._on_master_message(msg)

        def on_close(c: Conn, reason: str) -> None:
            if c is self.master_conn:
                self.forget(c)
                self.master_conn = None
                self.master_end = None
                if self.link_up:
                    self.link_down_since = self.scheduler.now
                    self._log("#", "Connection with master lost.")
                self.link_up = False

        end = self.endpoint(on_message, on_close, on_open)
        conn = self.net.connect(end, host, port)
        self.master_conn = conn
        self.master_end = end
        self.track(conn, end)

    def _on_master_message(self, msg: object) -> None:
        self.last_master_io = self.scheduler.now
        if isinstance(msg, FullResync):
            self.data = dict(msg.data)
            self.replid = msg.replid
            self.replid2 = ZERO_REPLID
            self.second_offset = -1
            self.offset = msg.offset
            self.backlog = []
            self.backlog_start = msg.offset
            self.link_up = True
            self._log("*", "MASTER <-> REPLICA sync: Finished with success")
            self._disconnect_replicas()
        elif isinstance(msg, Continue):
            if msg.replid != self.replid:
                self.replid2 = self.replid
                self.second_offset = self.offset
                self.replid = msg.replid
                self._disconnect_replicas()
            self.link_up = True
            self._log("*", "Successful partial resynchronization with master.")
        elif isinstance(msg, Write) and msg.offset > self.offset:
            self.data[msg.key] = msg.value
            self.offset = msg.offset
            self.backlog.append((msg.offset, msg.key, msg.value))
            for r in list(self.replicas.values()):
                r.client.conn.send(r.client.end, msg)

    # --- cron ----------------------------------------------------------------------------

    def _cron(self, life: int) -> None:
        if life != self.life or not self.up:
            return
        self.scheduler.after(CRON_MS, lambda: self._cron(life))
        if self.paused:
            return
        now = self.scheduler.now
        if self.master is not None:
            if self.master_conn is None:
                self._connect_master()
            elif self.link_up and now - self.last_master_io > REPL_TIMEOUT_MS:
                self._drop_master_link()
            elif self.link_up and self.master_end is not None:
                self.master_conn.send(self.master_end, Ack(self.offset))
        if now - self._last_ping_sent >= REPL_PING_PERIOD_MS:
            self._last_ping_sent = now
            for r in list(self.replicas.values()):
                r.client.conn.send(r.client.end, ReplPing())
        for r in list(self.replicas.values()):
            if now - r.last_ack > REPL_TIMEOUT_MS:
                self._kill_client(r.client)

    # --- introspection -------------------------------------------------------------------

    def role_reply(self) -> InReply:
        """ROLE, as redis-server answers it."""
        if self.master is None:
            return (
                b"master",
                self.offset,
                tuple(
                    (r.ip.encode(), str(r.port).encode(), str(r.ack_offset).encode())
                    for r in self.replicas.values()
                ),
            )
        state = b"connected" if self.link_up else b"connect"
        return (b"slave", self.master[0].encode(), self.master[1], state, self.offset)

    def info_text(self) -> str:
        """INFO (default sections that matter), formatted as redis-server 7.0 does."""
        now = self.scheduler.now
        uptime = (now - self.started_at) // 1000
        io_ago = (now - self.last_master_io) // 1000 if self.link_up else -1
        lines = [
            "# Server",
            "redis_version:7.0.15",
            "redis_git_sha1:00000000",
            "redis_git_dirty:0",
            "redis_mode:standalone",
            "os:Linux (simulated)",
            "arch_bits:64",
            f"process_id:{self.pid}",
            f"run_id:{self.run_id}",
            f"tcp_port:{self.port}",
            f"uptime_in_seconds:{uptime}",
            f"uptime_in_days:{uptime // 86400}",
            "",
            "# Clients",
            f"connected_clients:{len(self.clients)}",
            "",
            "# Replication",
            f"role:{self.role}",
        ]
        if self.master is not None:
            lines += [
                f"master_host:{self.master[0]}",
                f"master_port:{self.master[1]}",
                f"master_link_status:{'up' if self.link_up else 'down'}",
                f"master_last_io_seconds_ago:{io_ago}",
                "master_sync_in_progress:0",
                f"slave_read_repl_offset:{self.offset}",
                f"slave_repl_offset:{self.offset}",
            ]
            if not self.link_up:
                down = (
                    (now - self.link_down_since) // 1000 if self.link_down_since is not None else -1
                )
                lines.append(f"master_link_down_since_seconds:{down}")
            lines += [
                f"slave_priority:{self.settings.replica_priority}",
                "slave_read_only:1",
                f"replica_announced:{1 if self.settings.replica_announced else 0}",
            ]
        online = [r for r in self.replicas.values() if r.online]
        lines.append(f"connected_slaves:{len(online)}")
        if self.master is None and self.settings.min_replicas_to_write:
            lines.append(f"min_slaves_good_slaves:{self.good_replicas()}")
        for i, r in enumerate(online):
            lag = (now - r.last_ack) // 1000
            lines.append(
                f"slave{i}:ip={r.ip},port={r.port},state=online,offset={r.ack_offset},lag={lag}"
            )
        lines += [
            "master_failover_state:no-failover",
            f"master_replid:{self.replid}",
            f"master_replid2:{self.replid2}",
            f"master_repl_offset:{self.offset}",
            f"second_repl_offset:{self.second_offset + 1 if self.second_offset >= 0 else -1}",
            "repl_backlog_active:1",
            "repl_backlog_size:1048576",
            f"repl_backlog_first_byte_offset:{self.backlog_start + 1}",
            f"repl_backlog_histlen:{self.offset - self.backlog_start}",
            "",
        ]
        return "\r\n".join(lines)

"""The clients of our port: generic checks, connection commands and pub/sub.

Rules of this module:

* :class:`ClientRegistry` is the only owner of per-client state. The driver (or
  the simulator) reports ``ClientConnected``/``ClientCommand``/
  ``ClientDisconnected``; we answer with ``Reply``/``CloseClient``/``Log``/``Exit``
  effects and, for ``SENTINEL``/``ROLE``/``PUBLISH``/INFO's Sentinel section, ask
  the :class:`~pysentinel.core.backend.CommandBackend`.
* The generic checks of spec §3.1 run in redis's order (processCommand()):
  existence (unknown command / unknown subcommand), arity, authentication, ACL
  (command, then channels), then the RESP2 subscribed-mode restriction. The first
  failure wins and the command does not run.
* Every reply to a client goes through :meth:`ClientRegistry._reply`, which applies
  ``CLIENT REPLY OFF|SKIP`` and counts error replies for INFO.
* Pub/sub deliveries: channel subscribers first, in subscription order, then pattern
  subscribers, patterns in the order they were first subscribed (redis iterates a
  hash table there; we pick the deterministic order). RESP2 clients get arrays,
  RESP3 clients push frames: both are ``Push`` values, encoded per client ``proto``.
* Killed clients (``CLIENT KILL``, ``ACL DELUSER``) leave the registry at once,
  like redis's freeClient(); the ``ClientDisconnected`` that follows is ignored.
* Error texts never contain CR or LF (redis replaces them with spaces).
* ``CLIENT PAUSE ... ALL`` holds every valid command (checks still answer at once)
  until the pause ends; :meth:`ClientRegistry.tick` and any later input run them, in
  arrival order, and :meth:`ClientRegistry.next_deadline` says when.
* Commands we recognise but don't implement (``CLIENT HELP``, ``COMMAND DOCS``/``HELP``,
  ``ACL HELP``) answer an explicit ``-ERR`` saying so; docs/deviations.md lists them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import attrs

from pysentinel.config import SentinelConfig
from pysentinel.core import cmdtable, serverinfo
from pysentinel.core.acl import Acl, AclError, User
from pysentinel.core.backend import CommandBackend
from pysentinel.core.cmdtable import ACL_CATEGORIES, CommandSpec
from pysentinel.core.effects import CloseClient, Effect, Exit, Log, Reply
from pysentinel.core.glob import string_match
from pysentinel.core.inputs import ClientCommand, ClientConnected, ClientDisconnected
from pysentinel.core.types import ClientId, LogLevel, Millis
from pysentinel.core.values import (
    NULL,
    Array,
    Bulk,
    Double,
    Error,
    Int,
    Map,
    Push,
    Set,
    Simple,
    Value,
    Verbatim,
)

if TYPE_CHECKING:
    import random  # the injected rng's type only; the core never draws from the module

__all__ = ["AclLogEntry", "ClientRegistry", "ClientSnapshot", "ClientState"]

HELLO_CHANNEL: Final = b"__sentinel__:hello"
OK: Final = Simple("OK")
_SYNTAX: Final = "ERR syntax error"
_NOT_INT: Final = "ERR value is not an integer or out of range"
_NOAUTH: Final = "NOAUTH Authentication required."
_WRONGPASS: Final = "WRONGPASS invalid username-password pair or user is disabled."
_NO_DEFAULT_PASS: Final = (
    "ERR AUTH <password> called without any password configured for the default user."
    " Are you sure your configuration is correct?"
)
_HELLO_NOAUTH: Final = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO"
    " AUTH <user> <pass> option can be used to authenticate the client and select the RESP"
    " protocol version at the same time"
)
_BAD_NAME: Final = "ERR Client names cannot contain spaces, newlines or special characters."
_NO_ACL_FILE: Final = (
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify"
    " users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a"
    " Redis configuration file set) in order to store users in the Redis configuration."
)
_GENPASS_RANGE: Final = (
    "ERR ACL GENPASS argument must be the number of bits for the output password, a positive"
    " number up to 4096"
)
_SUBSCRIBED_ONLY: Final = (
    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET"
    " are allowed in this context"
)
#: Commands a RESP2 client may run while subscribed (QUIT/RESET don't exist in sentinel).
_SUBSCRIBED_ALLOWED: Final = frozenset(
    {"ping", "subscribe", "unsubscribe", "psubscribe", "punsubscribe"}
)
_PREVIEW_MAX: Final = 128
_CLIENT_TYPES: Final = ("normal", "master", "replica", "slave", "pubsub")
#: ACL LOG: max entries (acllog-max-len default), entries scanned for grouping, and how
#: recent a similar entry must be to be grouped (ACL_LOG_GROUPING_MAX_TIME_DELTA).
_ACL_LOG_MAX_LEN: Final = 128
_ACL_LOG_SCAN: Final = 10
_ACL_LOG_GROUPING_MS: Final = 60_000


class ReplyMode(enum.Enum):
    """``CLIENT REPLY`` state."""

    ON = "on"
    OFF = "off"
    #: Suppress the reply of the next command only.
    SKIP_NEXT = "skip-next"
    #: The command now running is the one whose reply is skipped.
    SKIP = "skip"


@attrs.define(eq=False)
class AclLogEntry:
    """One ``ACL LOG`` entry (redis's ``ACLLogEntry``)."""

    reason: str
    object: str
    username: str
    ctime: Millis
    client_info: str
    count: int = 1
    context: str = "toplevel"


@attrs.define(eq=False)
class ClientState:
    """One connection to our port (redis's ``client`` struct, the parts we use)."""

    id: ClientId
    addr: str
    laddr: str
    fd: int
    created: Millis
    last_interaction: Millis
    name: bytes = b""
    proto: int = 2
    user: str = "default"
    #: Authenticated with AUTH/HELLO AUTH (redis's ``c->authenticated``).
    authenticated: bool = False
    channels: dict[bytes, None] = attrs.Factory(dict)
    patterns: dict[bytes, None] = attrs.Factory(dict)
    last_cmd: str = "NULL"
    reply_mode: ReplyMode = ReplyMode.ON
    no_evict: bool = False
    #: CLIENT TRACKING state. No sentinel command reads keys, so no invalidation is
    #: ever sent; the state is kept for TRACKINGINFO, GETREDIR, CACHING and CLIENT LIST.
    tracking: bool = False
    tracking_redirect: int = 0
    tracking_bcast: bool = False
    tracking_optin: bool = False
    tracking_optout: bool = False
    tracking_noloop: bool = False
    #: CLIENT CACHING yes|no was given; cleared by the next non-CLIENT command.
    tracking_caching: bool = False
    tracking_prefixes: list[bytes] = attrs.Factory(list)
    #: CLIENT KILL of itself / ACL DELUSER of its user: close once the reply is out.
    close_after_reply: bool = False

    @property
    def subscriptions(self) -> int:
        """Channels plus patterns (the count in SUBSCRIBE replies)."""
        return len(self.channels) + len(self.patterns)


@attrs.frozen(kw_only=True)
class ClientSnapshot:
    """What :meth:`ClientRegistry.snapshot` reports for one client."""

    id: ClientId
    addr: str
    name: bytes
    user: str
    proto: int
    authenticated: bool
    channels: tuple[bytes, ...]
    patterns: tuple[bytes, ...]


def _err(text: str) -> Error:
    # Errors must be one line on the wire.
    return Error(text.replace("\r", " ").replace("\n", " "))


def _text(data: bytes) -> str:
    return data.decode(errors="replace")


def _ascii_upper(text: str) -> str:
    # C toupper() in the "C" locale leaves non-ASCII alone.
    return "".join(chr(ord(ch) - 32) if "a" <= ch <= "z" else ch for ch in text)


def _c_string(data: bytes) -> bytes:
    # printf("%s") stops at the first NUL byte.
    return data.split(b"\0", 1)[0]


def _parse_int(data: bytes) -> int | None:
    """redis's string2ll: optional '-', digits, no spaces or '+', fits in 64 bits."""
    if not data or len(data) > 20:
        return None
    body = data[1:] if data[:1] == b"-" else data
    if not body or not body.isdigit() or (body[:1] == b"0" and len(body) > 1):
        return None
    if data == b"-0":
        return None
    value = int(data)
    if not -(1 << 63) <= value < (1 << 63):
        return None
    return value


def _valid_client_name(name: bytes) -> bool:
    return all(0x21 <= c <= 0x7E for c in name)


def _command_info(spec: CommandSpec) -> Array:
    """One ``COMMAND INFO`` entry. Mirrors addReplyCommandInfo()."""
    return Array(
        (
            Bulk(spec.fullname.encode()),
            Int(spec.arity),
            Set(tuple(Simple(flag) for flag in spec.flags)),
            Int(0),
            Int(0),
            Int(0),
            Set(tuple(Simple("@" + cat) for cat in spec.categories)),
            Set(tuple(Bulk(tip.encode()) for tip in spec.tips)),
            Set(()),
            Set(tuple(_command_info(sub) for sub in spec.subcommands)),
        )
    )


def _find_spec(name: bytes) -> CommandSpec | None:
    """A command by its full name, ``client|kill`` form allowed (lookupCommandBySds)."""
    try:
        return cmdtable.find(name.decode())
    except UnicodeDecodeError:
        return None


Handler = Callable[
    ["ClientRegistry", ClientState, tuple[bytes, ...], ClientCommand, Millis], list[Effect]
]


@attrs.define(eq=False)
class ClientRegistry:
    """Every client of our port, with the command table behind them.

    Args:
        config: the loaded configuration (``requirepass``, ``user`` lines, port,
            maxclients).
        backend: the sentinel proper.
        rng: the core's random source (run id, ``ACL GENPASS``, INFO ``hz``).
    """

    config: SentinelConfig
    backend: CommandBackend
    rng: random.Random
    acl: Acl = attrs.field(init=False)
    clients: dict[ClientId, ClientState] = attrs.field(init=False, factory=dict)
    #: channel -> subscribers, in subscription order.
    channel_subs: dict[bytes, dict[ClientId, None]] = attrs.field(init=False, factory=dict)
    #: pattern -> subscribers, in subscription order.
    pattern_subs: dict[bytes, dict[ClientId, None]] = attrs.field(init=False, factory=dict)
    run_id: str = attrs.field(init=False)
    started_at: Millis | None = attrs.field(init=False, default=None)
    total_connections: int = attrs.field(init=False, default=0)
    total_commands: int = attrs.field(init=False, default=0)
    total_errors: int = attrs.field(init=False, default=0)
    #: ``ACL LOG`` entries, newest first.
    acl_log: list[AclLogEntry] = attrs.field(init=False, factory=list)
    #: CLIENT PAUSE: when it ends, and whether it holds every command (ALL) or only
    #: writes (WRITE: nothing in sentinel). Held commands wait in ``postponed``.
    pause_end: Millis | None = attrs.field(init=False, default=None)
    pause_all: bool = attrs.field(init=False, default=False)
    postponed: list[ClientCommand] = attrs.field(init=False, factory=list)

    def __attrs_post_init__(self) -> None:
        self.acl = Acl.from_config(self.config.requirepass, self.config.users)
        self.run_id = f"{self.rng.getrandbits(160):040x}"

    # --- inputs ---------------------------------------------------------------

    def start(self, now: Millis) -> None:
        """Record the start time (INFO ``uptime_in_seconds``)."""
        if self.started_at is None:
            self.started_at = now

    def connected(self, event: ClientConnected, now: Millis) -> list[Effect]:
        """A client connected: register it (no reply; redis sends nothing first)."""
        self.start(now)
        self.total_connections += 1
        self.clients[event.client] = ClientState(
            id=event.client,
            addr=event.addr,
            laddr=event.laddr,
            fd=event.fd,
            created=now,
            last_interaction=now,
            # redis's createClient(): a client starts authenticated when the default
            # user needs no password at that moment; a later password doesn't undo it.
            authenticated=not self.acl.auth_required(),
        )
        return self._release(now)

    def disconnected(self, event: ClientDisconnected, now: Millis) -> list[Effect]:
        """The connection is gone: drop the client and its subscriptions."""
        client = self.clients.pop(event.client, None)
        if client is not None:
            self._forget(client)
        return []

    def _forget(self, client: ClientState) -> None:
        """Drop a client's subscriptions and held-back commands (it is gone)."""
        self._unsubscribe_everything(client)
        self.postponed = [held for held in self.postponed if held.client != client.id]

    def command(self, event: ClientCommand, now: Millis) -> list[Effect]:
        """Run one command from a client (after any commands a pause held back).

        Mirrors processCommand() (checks) and call() (counting).
        """
        self.start(now)
        out = self._release(now)
        if any(held.client == event.client for held in self.postponed):
            # The client is blocked behind a held command: keep its order.
            self.postponed.append(event)
            return out
        return out + self._run(event, now)

    def tick(self, now: Millis) -> list[Effect]:
        """Run the commands a ``CLIENT PAUSE`` held back, once it has ended.

        Mirrors the pause checks of clientsCron()/beforeSleep().
        """
        return self._release(now)

    def next_deadline(self) -> Millis | None:
        """When held-back commands become runnable, if any are held."""
        if self.postponed and self.pause_end is not None:
            return self.pause_end
        return None

    def _release(self, now: Millis) -> list[Effect]:
        if self.pause_end is not None and now >= self.pause_end:
            self.pause_end = None
            self.pause_all = False
        out: list[Effect] = []
        while self.postponed and not self._paused(now):
            out.extend(self._run(self.postponed.pop(0), now))
        return out

    def _paused(self, now: Millis) -> bool:
        return self.pause_all and self.pause_end is not None and now < self.pause_end

    def _run(self, event: ClientCommand, now: Millis) -> list[Effect]:
        client = self.clients.get(event.client)
        if client is None or not event.argv:
            return []
        client.last_interaction = now
        if client.reply_mode is ReplyMode.SKIP_NEXT:
            client.reply_mode = ReplyMode.SKIP
        effects = self._process(client, event, now)
        if effects is None:
            # Held back by CLIENT PAUSE: it runs (and replies) later, from the start.
            if client.reply_mode is ReplyMode.SKIP:
                client.reply_mode = ReplyMode.SKIP_NEXT
            self.postponed.append(event)
            return []
        if client.tracking_caching and client.last_cmd.partition("|")[0] != "client":
            # resetClient(): CLIENT CACHING applies to the next command only.
            client.tracking_caching = False
        if client.reply_mode is ReplyMode.SKIP:
            client.reply_mode = ReplyMode.ON
        if client.close_after_reply and client.id in self.clients:
            del self.clients[client.id]
            self._forget(client)
            effects.append(CloseClient(client=client.id))
        return effects

    def _process(
        self, client: ClientState, event: ClientCommand, now: Millis
    ) -> list[Effect] | None:
        """The checks of spec §3.1, then the command; None when a pause holds it back."""
        argv = event.argv
        spec = cmdtable.lookup(argv[0])
        if spec is not None and spec.subcommands and len(argv) >= 2:
            sub = cmdtable.lookup_subcommand(spec, argv[1])
            if sub is None:
                client.last_cmd = "NULL"
                name = _ascii_upper(_text(_c_string(argv[0])))
                arg = _text(_c_string(argv[1])[:_PREVIEW_MAX])
                return self._reply(
                    client, _err(f"ERR unknown subcommand '{arg}'. Try {name} HELP.")
                )
            spec = sub
        if spec is None:
            client.last_cmd = "NULL"
            return self._reply(client, _err(_unknown_command_text(argv)))
        client.last_cmd = spec.fullname
        if (spec.arity > 0 and len(argv) != spec.arity) or len(argv) < -spec.arity:
            return self._reply(
                client, _err(f"ERR wrong number of arguments for '{spec.fullname}' command")
            )
        if not spec.has_flag("no_auth") and self._auth_required(client):
            return self._reply(client, Error(_NOAUTH))
        user = self._user(client)
        if not user.can_run(spec):
            self.acl_log_add(client, "command", spec.fullname, client.user, now)
            return self._reply(
                client,
                Error(f"NOPERM this user has no permissions to run the '{spec.fullname}' command"),
            )
        denied = self._denied_channel(user, spec, argv)
        if denied is not None:
            self.acl_log_add(client, "channel", _text(denied), client.user, now)
            return self._reply(
                client,
                Error(
                    "NOPERM this user has no permissions to access one of the channels used"
                    " as arguments"
                ),
            )
        if client.proto == 2 and client.subscriptions and spec.fullname not in _SUBSCRIBED_ALLOWED:
            return self._reply(client, Error(_SUBSCRIBED_ONLY.format(spec.fullname)))
        if self._paused(now):
            return None
        handler = _HANDLERS[spec.fullname]
        effects = handler(self, client, argv, event, now)
        # Counted after the call, as call() does: INFO does not count itself.
        self.total_commands += 1
        return effects

    def snapshot(self) -> tuple[ClientSnapshot, ...]:
        """Frozen view of the connected clients, in connection order (for tests and the sim)."""
        return tuple(
            ClientSnapshot(
                id=c.id,
                addr=c.addr,
                name=c.name,
                user=c.user,
                proto=c.proto,
                authenticated=c.authenticated,
                channels=tuple(c.channels),
                patterns=tuple(c.patterns),
            )
            for c in self.clients.values()
        )

    # --- helpers --------------------------------------------------------------

    def _user(self, client: ClientState) -> User:
        user = self.acl.get(client.user)
        # Clients of deleted users are killed, so the user exists.
        assert user is not None
        return user

    def _auth_required(self, client: ClientState) -> bool:
        return not client.authenticated and self.acl.auth_required()

    @staticmethod
    def _denied_channel(user: User, spec: CommandSpec, argv: tuple[bytes, ...]) -> bytes | None:
        """The first channel argument ``user`` may not use, if any (ACLCheckAllPerm())."""
        if spec.fullname in ("subscribe", "publish"):
            names = argv[1:2] if spec.fullname == "publish" else argv[1:]
            for ch in names:
                if not user.can_access_channel(ch, is_pattern=False):
                    return ch
        elif spec.fullname == "psubscribe":
            for pattern in argv[1:]:
                if not user.can_access_channel(pattern, is_pattern=True):
                    return pattern
        return None

    def acl_log_add(
        self, client: ClientState, reason: str, obj: str, username: str, now: Millis
    ) -> None:
        """Record a denial in ``ACL LOG``, grouping it with a recent similar entry.

        Mirrors addACLLogEntry().
        """
        info = self.client_line(client, now)
        for entry in self.acl_log[:_ACL_LOG_SCAN]:
            same = (entry.reason, entry.object, entry.username) == (reason, obj, username)
            if same and now - entry.ctime < _ACL_LOG_GROUPING_MS:
                entry.count += 1
                entry.ctime = now
                entry.client_info = info
                return
        self.acl_log.insert(
            0,
            AclLogEntry(reason=reason, object=obj, username=username, ctime=now, client_info=info),
        )
        del self.acl_log[_ACL_LOG_MAX_LEN:]

    def _reply(self, client: ClientState, value: Value) -> list[Effect]:
        if isinstance(value, Error):
            self.total_errors += 1
        if client.reply_mode is not ReplyMode.ON:
            return []
        return [Reply(client=client.id, value=value, proto=client.proto)]

    def _replies(self, client: ClientState, values: list[Value]) -> list[Effect]:
        out: list[Effect] = []
        for value in values:
            out.extend(self._reply(client, value))
        return out

    def _kill(self, victim: ClientState, by: ClientState) -> list[Effect]:
        if victim is by:
            by.close_after_reply = True
            return []
        self.clients.pop(victim.id, None)
        self._forget(victim)
        return [CloseClient(client=victim.id)]

    def stats(self, now: Millis, *, draw_hz: bool = True) -> serverinfo.ServerStats:
        """The counters INFO shows.

        ``hz`` is drawn from the rng (10..19, like sentinel's randomised timer) only when
        ``draw_hz``: INFO without the Server section leaves the rng alone.
        """
        started = self.started_at if self.started_at is not None else now
        return serverinfo.ServerStats(
            run_id=self.run_id,
            tcp_port=self.config.port,
            uptime_ms=now - started,
            hz=10 + self.rng.randrange(10) if draw_hz else 10,
            connected_clients=len(self.clients),
            maxclients=self.config.maxclients,
            total_connections_received=self.total_connections,
            total_commands_processed=self.total_commands,
            total_error_replies=self.total_errors,
            pubsub_channels=len(self.channel_subs),
            pubsub_patterns=len(self.pattern_subs),
        )

    # --- pub/sub --------------------------------------------------------------

    def publish(self, channel: str, message: str) -> list[Effect]:
        """Deliver an event to our subscribers (spec §4.1 step 2).

        Mirrors pubsubPublishMessage().
        """
        ch, msg = channel.encode(), message.encode()
        out: list[Effect] = []
        for cid in self.channel_subs.get(ch, {}):
            client = self.clients[cid]
            out.extend(self._push(client, Push((Bulk(b"message"), Bulk(ch), Bulk(msg)))))
        for pattern, subs in self.pattern_subs.items():
            if not string_match(pattern, ch):
                continue
            for cid in subs:
                client = self.clients[cid]
                frame = Push((Bulk(b"pmessage"), Bulk(pattern), Bulk(ch), Bulk(msg)))
                out.extend(self._push(client, frame))
        return out

    def _push(self, client: ClientState, value: Value) -> list[Effect]:
        if client.reply_mode is not ReplyMode.ON:
            return []
        return [Reply(client=client.id, value=value, proto=client.proto)]

    def _unsubscribe_everything(self, client: ClientState) -> None:
        for ch in client.channels:
            self._drop(self.channel_subs, ch, client.id)
        for pattern in client.patterns:
            self._drop(self.pattern_subs, pattern, client.id)
        client.channels.clear()
        client.patterns.clear()

    @staticmethod
    def _drop(index: dict[bytes, dict[ClientId, None]], key: bytes, cid: ClientId) -> None:
        subs = index.get(key)
        if subs is not None:
            subs.pop(cid, None)
            if not subs:
                del index[key]

    def _subscribe(
        self, client: ClientState, names: tuple[bytes, ...], *, patterns: bool
    ) -> list[Effect]:
        mine = client.patterns if patterns else client.channels
        index = self.pattern_subs if patterns else self.channel_subs
        kind = b"psubscribe" if patterns else b"subscribe"
        out: list[Effect] = []
        for name in names:
            if name not in mine:
                mine[name] = None
                index.setdefault(name, {})[client.id] = None
            frame = Push((Bulk(kind), Bulk(name), Int(client.subscriptions)))
            out.extend(self._reply(client, frame))
        return out

    def _unsubscribe(
        self, client: ClientState, names: tuple[bytes, ...], *, patterns: bool
    ) -> list[Effect]:
        mine = client.patterns if patterns else client.channels
        index = self.pattern_subs if patterns else self.channel_subs
        kind = b"punsubscribe" if patterns else b"unsubscribe"
        if not names:
            if not mine:
                return self._reply(client, Push((Bulk(kind), NULL, Int(client.subscriptions))))
            names = tuple(mine)
        out: list[Effect] = []
        for name in names:
            if name in mine:
                del mine[name]
                self._drop(index, name, client.id)
            frame = Push((Bulk(kind), Bulk(name), Int(client.subscriptions)))
            out.extend(self._reply(client, frame))
        return out

    # --- CLIENT LIST line ---------------------------------------------------------

    def client_line(self, client: ClientState, now: Millis) -> str:
        """One ``CLIENT LIST`` line (without the newline).

        Mirrors catClientInfoString(); memory and buffer fields are 0 here.
        """
        flags = "P" if client.subscriptions else ""
        if any(held.client == client.id for held in self.postponed):
            flags += "b"
        if client.tracking:
            flags += "t"
        if client.tracking_bcast:
            flags += "B"
        if client.close_after_reply:
            flags += "c"
        if client.no_evict:
            flags += "e"
        return (
            f"id={client.id} addr={client.addr} laddr={client.laddr} fd={client.fd}"
            f" name={_text(client.name)} age={(now - client.created) // 1000}"
            f" idle={(now - client.last_interaction) // 1000} flags={flags or 'N'} db=0"
            f" sub={len(client.channels)} psub={len(client.patterns)} ssub=0 multi=-1"
            " qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0"
            f" tot-mem=0 events=r cmd={client.last_cmd} user={client.user}"
            f" redir={client.tracking_redirect if client.tracking else -1}"
            f" resp={client.proto}"
        )


def _unknown_command_text(argv: tuple[bytes, ...]) -> str:
    """Mirrors commandCheckExistence()'s message for an unknown command."""
    args = ""
    for arg in argv[1:]:
        if len(args) >= _PREVIEW_MAX:
            break
        args += "'" + _text(_c_string(arg))[: _PREVIEW_MAX - len(args)] + "' "
    name = _text(_c_string(argv[0]))[:_PREVIEW_MAX]
    return f"ERR unknown command '{name}', with args beginning with: {args}"


# --- command handlers -----------------------------------------------------------------


def _ping(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    if len(argv) > 2:
        return reg._reply(c, _err("ERR wrong number of arguments for 'ping' command"))
    if c.proto == 2 and c.subscriptions:
        msg = argv[1] if len(argv) == 2 else b""
        return reg._reply(c, Array((Bulk(b"pong"), Bulk(msg))))
    if len(argv) == 2:
        return reg._reply(c, Bulk(argv[1]))
    return reg._reply(c, Simple("PONG"))


def _info(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    sections = serverinfo.requested_sections(argv[1:])
    stats = reg.stats(now, draw_hz="server" in sections)
    text = serverinfo.info_reply_text(
        sections, stats, ev.proc, lambda: reg.backend.info_sentinel_section(now)
    )
    return reg._reply(c, Bulk(text.encode()))


def _role(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    return reg._reply(c, reg.backend.role_reply())


def _sentinel(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    effects = reg.backend.sentinel_command(c.id, argv[1:], c.proto, now)
    out: list[Effect] = []
    for effect in effects:
        if isinstance(effect, Reply) and effect.client == c.id:
            out.extend(reg._reply(c, effect.value))
        else:
            out.append(effect)
    return out


def _publish(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    if argv[1] != HELLO_CHANNEL:
        return reg._reply(c, Error("ERR Only HELLO messages are accepted by Sentinel instances."))
    effects = reg.backend.hello_published(argv[2], now)
    return effects + reg._reply(c, Int(1))


def _subscribe(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    return reg._subscribe(c, argv[1:], patterns=False)


def _psubscribe(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    return reg._subscribe(c, argv[1:], patterns=True)


def _unsubscribe(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    return reg._unsubscribe(c, argv[1:], patterns=False)


def _punsubscribe(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    return reg._unsubscribe(c, argv[1:], patterns=True)


_SHUTDOWN_OPTIONS: Final = frozenset({"nosave", "save", "now", "force", "abort"})


def _shutdown(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    opts = [_text(arg).lower() for arg in argv[1:]]
    if any(opt not in _SHUTDOWN_OPTIONS for opt in opts):
        return reg._reply(c, Error(_SYNTAX))
    if ("abort" in opts and len(opts) > 1) or ("save" in opts and "nosave" in opts):
        return reg._reply(c, Error(_SYNTAX))
    if "abort" in opts:
        # A sentinel has no replicas to wait for: a shutdown never stays in progress.
        return reg._reply(c, Error("ERR No shutdown in progress."))
    # Sentinel has no data to save: every form shuts down at once, without a reply.
    return [Log(level=LogLevel.WARNING, text="User requested shutdown..."), Exit(code=0)]


def _auth(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    if len(argv) > 3:
        return reg._reply(c, Error(_SYNTAX))
    if len(argv) == 2:
        if reg.acl.users["default"].nopass:
            return reg._reply(c, Error(_NO_DEFAULT_PASS))
        username, password = b"default", argv[1]
    else:
        username, password = argv[1], argv[2]
    if not _authenticate(reg, c, argv, username, password, now=now):
        return reg._reply(c, Error(_WRONGPASS))
    return reg._reply(c, OK)


def _authenticate(
    reg: ClientRegistry,
    c: ClientState,
    argv: tuple[bytes, ...],
    username: bytes,
    password: bytes,
    *,
    now: Millis,
) -> bool:
    """Mirrors ACLAuthenticateUser() (failures go to ACL LOG)."""
    user = reg.acl.get(username)
    if user is None or not user.check_password(password):
        reg.acl_log_add(c, "auth", _text(argv[0]), _text(username), now)
        return False
    c.user = user.name
    c.authenticated = True
    return True


def _hello(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    version = 0
    if len(argv) >= 2:
        parsed = _parse_int(argv[1])
        if parsed is None:
            return reg._reply(c, Error("ERR Protocol version is not an integer or out of range"))
        if parsed not in (2, 3):
            return reg._reply(c, Error("NOPROTO unsupported protocol version"))
        version = parsed
    credentials: tuple[bytes, bytes] | None = None
    name: bytes | None = None
    j = 2
    while j < len(argv):
        more = len(argv) - 1 - j
        opt = _text(argv[j]).lower()
        if opt == "auth" and more >= 2:
            credentials = (argv[j + 1], argv[j + 2])
            j += 3
        elif opt == "setname" and more >= 1:
            name = argv[j + 1]
            if not _valid_client_name(name):
                return reg._reply(c, Error(_BAD_NAME))
            j += 2
        else:
            return reg._reply(c, _err(f"ERR Syntax error in HELLO option '{_text(argv[j])}'"))
    if credentials is not None and not _authenticate(reg, c, argv, *credentials, now=now):
        return reg._reply(c, Error(_WRONGPASS))
    if reg._auth_required(c):
        return reg._reply(c, Error(_HELLO_NOAUTH))
    if name is not None:
        c.name = name
    if version:
        c.proto = version
    reply = Map(
        (
            (Bulk(b"server"), Bulk(b"redis")),
            (Bulk(b"version"), Bulk(serverinfo.REDIS_VERSION.encode())),
            (Bulk(b"proto"), Int(c.proto)),
            (Bulk(b"id"), Int(c.id)),
            (Bulk(b"mode"), Bulk(b"sentinel")),
            (Bulk(b"modules"), Array(())),
        )
    )
    return reg._reply(c, reply)


# --- CLIENT ----------------------------------------------------------------------------


def _client(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    sub = _text(argv[1]).lower()
    handler = _CLIENT_HANDLERS.get(sub)
    if handler is None:
        return reg._reply(c, _err(f"ERR CLIENT {sub.upper()} is not supported by pysentinel"))
    return handler(reg, c, argv, ev, now)


def _client_id(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    return reg._reply(c, Int(c.id))


def _client_getname(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    return reg._reply(c, Bulk(c.name) if c.name else NULL)


def _client_setname(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    if not _valid_client_name(argv[2]):
        return reg._reply(c, Error(_BAD_NAME))
    c.name = argv[2]
    return reg._reply(c, OK)


def _client_type(client: ClientState) -> str:
    return "pubsub" if client.subscriptions else "normal"


def _client_list(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    chosen = list(reg.clients.values())
    if len(argv) == 4 and _text(argv[2]).lower() == "type":
        kind = _text(argv[3]).lower()
        if kind not in _CLIENT_TYPES:
            return reg._reply(c, _err(f"ERR Unknown client type '{_text(argv[3])}'"))
        kind = "replica" if kind == "slave" else kind
        chosen = [x for x in chosen if _client_type(x) == kind]
    elif len(argv) > 3 and _text(argv[2]).lower() == "id":
        wanted: list[int] = []
        for arg in argv[3:]:
            parsed = _parse_int(arg)
            if parsed is None or parsed < 1:
                return reg._reply(c, Error("ERR Invalid client ID"))
            wanted.append(parsed)
        chosen = [reg.clients[ClientId(i)] for i in wanted if ClientId(i) in reg.clients]
    elif len(argv) != 2:
        return reg._reply(c, Error(_SYNTAX))
    text = "".join(reg.client_line(x, now) + "\n" for x in chosen)
    return reg._reply(c, Verbatim("txt", text.encode()))


def _client_info(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    return reg._reply(c, Verbatim("txt", (reg.client_line(c, now) + "\n").encode()))


def _client_kill(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    if len(argv) == 3:
        addr = _text(argv[2])
        for victim in list(reg.clients.values()):
            if victim.addr == addr:
                return reg._reply(c, OK) + reg._kill(victim, c)
        return reg._reply(c, Error("ERR No such client"))
    want: dict[str, object] = {}
    skipme = True
    i = 2
    while i < len(argv):
        if i + 1 >= len(argv):
            return reg._reply(c, Error(_SYNTAX))
        opt, value = _text(argv[i]).lower(), argv[i + 1]
        if opt == "id":
            parsed = _parse_int(value)
            if parsed is None or parsed < 1:
                return reg._reply(c, Error("ERR client-id should be greater than 0"))
            want["id"] = parsed
        elif opt == "type":
            kind = _text(value).lower()
            if kind not in _CLIENT_TYPES:
                return reg._reply(c, _err(f"ERR Unknown client type '{_text(value)}'"))
            want["type"] = "replica" if kind == "slave" else kind
        elif opt in ("addr", "laddr"):
            want[opt] = _text(value)
        elif opt == "user":
            user = reg.acl.get(value)
            if user is None:
                return reg._reply(c, _err(f"ERR No such user '{_text(value)}'"))
            want["user"] = user.name
        elif opt == "skipme":
            flag = _text(value).lower()
            if flag not in ("yes", "no"):
                return reg._reply(c, Error(_SYNTAX))
            skipme = flag == "yes"
        else:
            return reg._reply(c, Error(_SYNTAX))
        i += 2
    killed: list[ClientState] = []
    for victim in list(reg.clients.values()):
        facts = {
            "id": victim.id,
            "type": _client_type(victim),
            "addr": victim.addr,
            "laddr": victim.laddr,
            "user": victim.user,
        }
        if all(facts[k] == v for k, v in want.items()) and not (victim is c and skipme):
            killed.append(victim)
    out = reg._reply(c, Int(len(killed)))
    for victim in killed:
        out.extend(reg._kill(victim, c))
    return out


def _client_reply(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    mode = _text(argv[2]).lower()
    if mode == "on":
        c.reply_mode = ReplyMode.ON
        return reg._reply(c, OK)
    if mode == "off":
        c.reply_mode = ReplyMode.OFF
        return []
    if mode == "skip":
        if c.reply_mode is not ReplyMode.OFF:
            c.reply_mode = ReplyMode.SKIP_NEXT
        return []
    return reg._reply(c, Error(_SYNTAX))


def _client_no_evict(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    flag = _text(argv[2]).lower()
    if flag not in ("on", "off"):
        return reg._reply(c, Error(_SYNTAX))
    c.no_evict = flag == "on"
    return reg._reply(c, OK)


def _client_getredir(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    return reg._reply(c, Int(c.tracking_redirect if c.tracking else -1))


def _client_trackinginfo(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    flags: list[str] = []
    if c.tracking:
        flags.append("on")
        for flag, name in (
            (c.tracking_bcast, "bcast"),
            (c.tracking_optin, "optin"),
            (c.tracking_optout, "optout"),
            (c.tracking_caching and c.tracking_optin, "caching-yes"),
            (c.tracking_caching and c.tracking_optout, "caching-no"),
            (c.tracking_noloop, "noloop"),
        ):
            if flag:
                flags.append(name)
    else:
        flags.append("off")
    reply = Map(
        (
            (Bulk(b"flags"), Set(tuple(Bulk(f.encode()) for f in flags))),
            (Bulk(b"redirect"), Int(c.tracking_redirect if c.tracking else -1)),
            (Bulk(b"prefixes"), Array(tuple(Bulk(p) for p in c.tracking_prefixes))),
        )
    )
    return reg._reply(c, reply)


_SWITCH_BCAST: Final = (
    "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and"
    " then re-enabling it with a different mode."
)
_SWITCH_OPT: Final = (
    "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and"
    " then re-enabling it with a different mode."
)
_PREFIX_OVERLAP: Final = (
    "ERR Prefix '{}' overlaps with {} prefix '{}'. Prefixes for a single client must not overlap."
)


def _overlap(a: bytes, b: bytes) -> bool:
    return a.startswith(b) or b.startswith(a)


def _client_tracking(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    """Mirrors the TRACKING branch of clientCommand()."""
    redirect = 0
    opts: set[str] = set()
    prefixes: list[bytes] = []
    j = 3
    while j < len(argv):
        more = len(argv) - 1 - j
        opt = _text(argv[j]).lower()
        if opt == "redirect" and more:
            j += 1
            if redirect:
                return reg._reply(
                    c, Error("ERR A client can only redirect to a single other client")
                )
            parsed = _parse_int(argv[j])
            if parsed is None:
                return reg._reply(c, Error(_NOT_INT))
            if ClientId(parsed) not in reg.clients:
                return reg._reply(c, Error("ERR The client ID you want redirect to does not exist"))
            redirect = parsed
        elif opt in ("bcast", "optin", "optout", "noloop"):
            opts.add(opt)
        elif opt == "prefix" and more:
            j += 1
            prefixes.append(argv[j])
        else:
            return reg._reply(c, Error(_SYNTAX))
        j += 1
    mode = _text(argv[2]).lower()
    if mode == "off":
        c.tracking = c.tracking_bcast = c.tracking_optin = c.tracking_optout = False
        c.tracking_noloop = c.tracking_caching = False
        c.tracking_redirect = 0
        c.tracking_prefixes.clear()
        return reg._reply(c, OK)
    if mode != "on":
        return reg._reply(c, Error(_SYNTAX))
    bcast = "bcast" in opts
    if prefixes and not bcast:
        return reg._reply(c, Error("ERR PREFIX option requires BCAST mode to be enabled"))
    if c.tracking and c.tracking_bcast != bcast:
        return reg._reply(c, Error(_SWITCH_BCAST))
    if bcast and opts & {"optin", "optout"}:
        return reg._reply(c, Error("ERR OPTIN and OPTOUT are not compatible with BCAST"))
    if {"optin", "optout"} <= opts:
        return reg._reply(c, Error("ERR You can't specify both OPTIN mode and OPTOUT mode"))
    if ("optin" in opts and c.tracking_optout) or ("optout" in opts and c.tracking_optin):
        return reg._reply(c, Error(_SWITCH_OPT))
    if bcast:
        for i, prefix in enumerate(prefixes):
            for existing in c.tracking_prefixes:
                if _overlap(existing, prefix):
                    text = _PREFIX_OVERLAP.format(_text(prefix), "an existing", _text(existing))
                    return reg._reply(c, _err(text))
            for other in prefixes[i + 1 :]:
                if _overlap(prefix, other):
                    text = _PREFIX_OVERLAP.format(_text(prefix), "another provided", _text(other))
                    return reg._reply(c, _err(text))
    c.tracking = True
    c.tracking_redirect = redirect
    c.tracking_bcast = bcast
    c.tracking_optin = "optin" in opts
    c.tracking_optout = "optout" in opts
    c.tracking_noloop = "noloop" in opts
    if bcast:
        for prefix in prefixes or [b""]:
            if prefix not in c.tracking_prefixes:
                c.tracking_prefixes.append(prefix)
    return reg._reply(c, OK)


def _client_unblock(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    if _parse_int(argv[2]) is None:
        return reg._reply(c, Error(_NOT_INT))
    if len(argv) == 4 and _text(argv[3]).lower() not in ("timeout", "error"):
        return reg._reply(c, Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"))
    if len(argv) > 4:
        return reg._reply(c, Error(_SYNTAX))
    # No sentinel command blocks, so no client is ever blocked.
    return reg._reply(c, Int(0))


def _client_unpause(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    # Under a pause ALL this command is itself held back (as in redis 7.0), so it can
    # only end a WRITE pause early; held commands then run on the next release.
    reg.pause_end = None
    reg.pause_all = False
    return reg._reply(c, OK)


def _client_pause(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    timeout = _parse_int(argv[2])
    if timeout is None:
        return reg._reply(c, Error("ERR timeout is not an integer or out of range"))
    if timeout < 0:
        return reg._reply(c, Error("ERR timeout is negative"))
    mode = "all"
    if len(argv) == 4:
        mode = _text(argv[3]).lower()
        if mode not in ("write", "all"):
            return reg._reply(c, Error("ERR CLIENT PAUSE mode must be WRITE or ALL"))
    elif len(argv) > 4:
        return reg._reply(c, Error(_SYNTAX))
    # pauseClients(): the later end and the stronger mode win. No sentinel command
    # writes or may replicate, so a WRITE pause holds nothing back.
    end = Millis(now + timeout)
    if reg.pause_end is None or end > reg.pause_end:
        reg.pause_end = end
    reg.pause_all = reg.pause_all or mode == "all"
    return reg._reply(c, OK)


def _client_caching(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    if not c.tracking_optin and not c.tracking_optout:
        return reg._reply(
            c,
            Error(
                "ERR CLIENT CACHING can be called only when the client is in tracking mode with"
                " OPTIN or OPTOUT mode enabled"
            ),
        )
    opt = _text(argv[2]).lower()
    if opt == "yes":
        if not c.tracking_optin:
            return reg._reply(
                c,
                Error(
                    "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
                ),
            )
    elif opt == "no":
        if not c.tracking_optout:
            return reg._reply(
                c,
                Error(
                    "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
                ),
            )
    else:
        return reg._reply(c, Error(_SYNTAX))
    c.tracking_caching = True
    return reg._reply(c, OK)


_CLIENT_HANDLERS: Final[dict[str, Handler]] = {
    "unpause": _client_unpause,
    "pause": _client_pause,
    "caching": _client_caching,
    "tracking": _client_tracking,
    "id": _client_id,
    "getname": _client_getname,
    "setname": _client_setname,
    "list": _client_list,
    "info": _client_info,
    "kill": _client_kill,
    "reply": _client_reply,
    "no-evict": _client_no_evict,
    "getredir": _client_getredir,
    "trackinginfo": _client_trackinginfo,
    "unblock": _client_unblock,
}


# --- COMMAND -------------------------------------------------------------------------


def _command(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    if len(argv) == 1:
        return reg._reply(c, Array(tuple(_command_info(s) for s in cmdtable.COMMANDS)))
    sub = _text(argv[1]).lower()
    if sub == "count":
        return reg._reply(c, Int(len(cmdtable.COMMANDS)))
    if sub == "info":
        if len(argv) == 2:
            return reg._reply(c, Array(tuple(_command_info(s) for s in cmdtable.COMMANDS)))
        items: list[Value] = []
        for name in argv[2:]:
            spec = _find_spec(name)
            items.append(NULL if spec is None else _command_info(spec))
        return reg._reply(c, Array(tuple(items)))
    if sub == "list":
        return _command_list(reg, c, argv)
    if sub in ("getkeys", "getkeysandflags"):
        spec = cmdtable.lookup(argv[2])
        if spec is not None and spec.subcommands:
            spec = cmdtable.lookup_subcommand(spec, argv[3])
        if spec is None:
            return reg._reply(c, Error("ERR Invalid command specified"))
        n = len(argv) - 2
        if (spec.arity > 0 and n != spec.arity) or n < -spec.arity:
            return reg._reply(c, Error("ERR Invalid number of arguments specified for command"))
        return reg._reply(c, Error("ERR The command has no key arguments"))
    return reg._reply(c, _err(f"ERR COMMAND {sub.upper()} is not supported by pysentinel"))


def _command_list(reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...]) -> list[Effect]:
    specs = cmdtable.all_specs()
    if len(argv) == 5 and _text(argv[2]).lower() == "filterby":
        kind, value = _text(argv[3]).lower(), argv[4]
        if kind == "module":
            specs = ()
        elif kind == "aclcat":
            cat = _text(value).lower()
            specs = tuple(s for s in specs if cat in s.categories)
        elif kind == "pattern":
            specs = tuple(s for s in specs if string_match(value, s.fullname, nocase=True))
        else:
            return reg._reply(c, Error(_SYNTAX))
    elif len(argv) != 2:
        return reg._reply(c, Error(_SYNTAX))
    return reg._reply(c, Array(tuple(Bulk(s.fullname.encode()) for s in specs)))


# --- ACL -------------------------------------------------------------------------------


def _acl(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    sub = _text(argv[1]).lower()
    handler = _ACL_HANDLERS.get(sub)
    if handler is None:
        return reg._reply(c, _err(f"ERR ACL {sub.upper()} is not supported by pysentinel"))
    return handler(reg, c, argv, ev, now)


def _acl_whoami(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    return reg._reply(c, Bulk(c.user.encode()))


def _acl_users(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    return reg._reply(c, Array(tuple(Bulk(n.encode()) for n in reg.acl.sorted_names())))


def _acl_list(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    lines = [f"user {n} {reg.acl.users[n].describe()}" for n in reg.acl.sorted_names()]
    return reg._reply(c, Array(tuple(Bulk(line.encode()) for line in lines)))


def _acl_setuser(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    try:
        reg.acl.setuser(argv[2], argv[3:])
    except AclError as exc:
        return reg._reply(c, _err(f"ERR {exc}"))
    return reg._reply(c, OK)


def _acl_deluser(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    deleted = 0
    kills: list[Effect] = []
    for raw in argv[2:]:
        name = _text(raw)
        if name == "default":
            return reg._reply(c, Error("ERR The 'default' user cannot be removed")) + kills
        if reg.acl.delete(name):
            deleted += 1
            for victim in list(reg.clients.values()):
                if victim.user == name:
                    kills.extend(reg._kill(victim, c))
    return reg._reply(c, Int(deleted)) + kills


def _acl_getuser(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    user = reg.acl.get(argv[2])
    if user is None:
        return reg._reply(c, NULL)
    reply = Map(
        (
            (Bulk(b"flags"), Set(tuple(Bulk(f.encode()) for f in user.flags()))),
            (Bulk(b"passwords"), Array(tuple(Bulk(p.encode()) for p in user.passwords))),
            (Bulk(b"commands"), Bulk(user.describe_commands().encode())),
            (Bulk(b"keys"), Bulk(user.describe_keys().encode())),
            (Bulk(b"channels"), Bulk(user.describe_channels().encode())),
            (Bulk(b"selectors"), Array(())),
        )
    )
    return reg._reply(c, reply)


def _acl_cat(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    if len(argv) > 3:
        return reg._reply(
            c, Error("ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP.")
        )
    if len(argv) == 2:
        return reg._reply(c, Array(tuple(Bulk(cat.encode()) for cat in ACL_CATEGORIES)))
    cat = _text(argv[2]).lower()
    if cat not in ACL_CATEGORIES:
        return reg._reply(c, _err(f"ERR Unknown category '{_text(argv[2])}'"))
    names = [s.fullname for s in cmdtable.all_specs() if cat in s.categories]
    return reg._reply(c, Array(tuple(Bulk(n.encode()) for n in names)))


def _acl_genpass(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    bits = 256
    if len(argv) == 3:
        parsed = _parse_int(argv[2])
        if parsed is None:
            return reg._reply(c, Error(_NOT_INT))
        bits = parsed
    elif len(argv) > 3:
        return reg._reply(
            c,
            Error(
                "ERR unknown subcommand or wrong number of arguments for 'GENPASS'. Try ACL HELP."
            ),
        )
    if bits <= 0 or bits > 4096:
        return reg._reply(c, Error(_GENPASS_RANGE))
    chars = (bits + 3) // 4
    text = f"{reg.rng.getrandbits(chars * 4):0{chars}x}"
    return reg._reply(c, Bulk(text.encode()))


def _acl_dryrun(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    user = reg.acl.get(argv[2])
    if user is None:
        return reg._reply(c, _err(f"ERR User '{_text(argv[2])}' not found"))
    spec = cmdtable.lookup(argv[3])
    if spec is not None and spec.subcommands and len(argv) > 4:
        spec = cmdtable.lookup_subcommand(spec, argv[4])
    if spec is None:
        return reg._reply(c, _err(f"ERR Command '{_text(argv[3])}' not found"))
    n = len(argv) - 3
    if (spec.arity > 0 and n != spec.arity) or n < -spec.arity:
        return reg._reply(c, _err(f"ERR wrong number of arguments for '{spec.fullname}' command"))
    if not user.can_run(spec):
        text = f"This user has no permissions to run the '{spec.fullname}' command"
        return reg._reply(c, Bulk(text.encode()))
    if ClientRegistry._denied_channel(user, spec, argv[3:]) is not None:
        text = "This user has no permissions to access one of the channels used as arguments"
        return reg._reply(c, Bulk(text.encode()))
    return reg._reply(c, OK)


def _acl_log(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    count = 10
    if len(argv) > 3:
        return reg._reply(
            c, Error("ERR unknown subcommand or wrong number of arguments for 'LOG'. Try ACL HELP.")
        )
    if len(argv) == 3:
        if _text(argv[2]).lower() == "reset":
            reg.acl_log.clear()
            return reg._reply(c, OK)
        parsed = _parse_int(argv[2])
        if parsed is None:
            return reg._reply(c, Error(_NOT_INT))
        count = parsed
    entries: list[Value] = []
    for entry in reg.acl_log[: max(count, 0)]:
        entries.append(
            Map(
                (
                    (Bulk(b"count"), Int(entry.count)),
                    (Bulk(b"reason"), Bulk(entry.reason.encode())),
                    (Bulk(b"context"), Bulk(entry.context.encode())),
                    (Bulk(b"object"), Bulk(entry.object.encode())),
                    (Bulk(b"username"), Bulk(entry.username.encode())),
                    (Bulk(b"age-seconds"), Double((now - entry.ctime) / 1000)),
                    (Bulk(b"client-info"), Bulk(entry.client_info.encode())),
                )
            )
        )
    return reg._reply(c, Array(tuple(entries)))


def _acl_no_file(
    reg: ClientRegistry, c: ClientState, argv: tuple[bytes, ...], ev: ClientCommand, now: Millis
) -> list[Effect]:
    return reg._reply(c, Error(_NO_ACL_FILE))


_ACL_HANDLERS: Final[dict[str, Handler]] = {
    "whoami": _acl_whoami,
    "users": _acl_users,
    "list": _acl_list,
    "setuser": _acl_setuser,
    "deluser": _acl_deluser,
    "getuser": _acl_getuser,
    "cat": _acl_cat,
    "genpass": _acl_genpass,
    "dryrun": _acl_dryrun,
    "log": _acl_log,
    "load": _acl_no_file,
    "save": _acl_no_file,
}


_HANDLERS: Final[dict[str, Handler]] = {
    "ping": _ping,
    "info": _info,
    "role": _role,
    "publish": _publish,
    "subscribe": _subscribe,
    "psubscribe": _psubscribe,
    "unsubscribe": _unsubscribe,
    "punsubscribe": _punsubscribe,
    "shutdown": _shutdown,
    "auth": _auth,
    "hello": _hello,
}
for _spec in cmdtable.COMMANDS:
    if _spec.fullname == "client":
        _HANDLERS.update({s.fullname: _client for s in _spec.subcommands})
    elif _spec.fullname == "command":
        _HANDLERS.update({s.fullname: _command for s in _spec.subcommands})
        _HANDLERS["command"] = _command
    elif _spec.fullname == "acl":
        _HANDLERS.update({s.fullname: _acl for s in _spec.subcommands})
    elif _spec.fullname == "sentinel":
        _HANDLERS.update({s.fullname: _sentinel for s in _spec.subcommands})

"""The monitoring half: links, their life cycle, and the periodic PING/INFO/hello
(spec §5.3, §5.4).

Rules of this module:

* A socket "exists" from its ``Connect`` effect on, as a hiredis async context exists
  from ``redisAsyncConnect``: the link's ``disconnected`` flag clears as soon as the
  sockets it needs were *requested*, and commands sent before ``LinkConnected`` are
  queued by the driver (spec T34). ``LinkDropped`` takes the socket away again.
* Every socket gets a fresh ``LinkId``; ids are never reused, so a late input for a
  socket we closed is recognised and ignored.
* ``pending_commands`` counts replies outstanding on the command socket (plus AUTH and
  CLIENT SETNAME on the pub/sub socket, as sentinel.c counts them). It is reset only
  when we open a new command socket or close one ourselves, not when the far side
  drops it (spec T11).
* Replies are matched to what we sent by order. Each socket keeps a queue of
  :class:`Pending` entries; the pub/sub socket's SUBSCRIBE entry stays at the head for
  good, because every later frame on that socket is a hello delivery.
* Periodic commands are skipped while the link is disconnected or has too many replies
  outstanding (100 x refcount), so a stuck instance costs bounded memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from pysentinel.core.effects import Close, Connect, Effect, Send
from pysentinel.core.events import EventType
from pysentinel.core.instance import (
    NEVER,
    Instance,
    InstanceLink,
    MasterInstance,
    Pending,
    ReplicaInstance,
    ReplyKind,
    SentinelPeer,
)
from pysentinel.core.types import LinkId, LinkKind, Millis
from pysentinel.core.values import ErrorReply, InReply

if TYPE_CHECKING:
    from pysentinel.core.sentinel import Sentinel

__all__ = [
    "HELLO_CHANNEL",
    "MAX_PENDING_COMMANDS",
    "close_link_socket",
    "encode_args",
    "info_reply",
    "link_connected",
    "link_dropped",
    "ping_reply",
    "publish_reply",
    "reconnect_instance",
    "send_periodic_commands",
    "send_ping",
]

#: SENTINEL_MAX_PENDING_COMMANDS: replies outstanding (per link user) before we stop
#: sending the periodic commands.
MAX_PENDING_COMMANDS: Final = 100
#: The pub/sub channel of the hello protocol.
HELLO_CHANNEL: Final = "__sentinel__:hello"
#: The accelerated INFO period for replicas of a troubled master (not tunable).
FAST_INFO_PERIOD_MS: Final = 1000
#: Status/error prefixes that make a PING reply acceptable (spec §5.4).
_ACCEPTABLE_PONG: Final = (b"PONG", b"LOADING", b"MASTERDOWN")


def _master_of(instance: Instance) -> MasterInstance:
    if isinstance(instance, MasterInstance):
        return instance
    assert isinstance(instance, ReplicaInstance | SentinelPeer)
    assert instance.master is not None
    return instance.master


def _auth_argv(sentinel: Sentinel, instance: Instance) -> tuple[str, ...] | None:
    """The AUTH command for a new socket to ``instance`` (spec §9.6), or None.

    Mirrors sentinelSendAuthIfNeeded().
    """
    if isinstance(instance, SentinelPeer):
        if sentinel.sentinel_pass:
            if sentinel.sentinel_user:
                return ("AUTH", sentinel.sentinel_user, sentinel.sentinel_pass)
            return ("AUTH", sentinel.sentinel_pass)
        if sentinel.config.requirepass:
            return ("AUTH", sentinel.config.requirepass)
        return None
    master = _master_of(instance)
    # SENTINEL SET stores an empty auth-pass/auth-user as "not set" (NULL) in redis.
    if not master.auth_pass:
        return None
    if master.auth_user:
        return ("AUTH", master.auth_user, master.auth_pass)
    return ("AUTH", master.auth_pass)


def encode_args(args: tuple[str | bytes, ...]) -> tuple[bytes, ...]:
    return tuple(a if isinstance(a, bytes) else a.encode("utf-8", "surrogateescape") for a in args)


def _send_pubsub(
    sentinel: Sentinel, instance: Instance, kind: ReplyKind, *argv: str
) -> Send | None:
    """Send on the pub/sub socket (AUTH, CLIENT SETNAME, SUBSCRIBE), renamed like all."""
    link = instance.link
    if link.pubsub is None:
        return None
    master = _master_of(instance)
    if kind is not ReplyKind.SUBSCRIBE:
        # sentinel.c counts AUTH/SETNAME on the pub/sub context too (their discard
        # callback decrements the shared counter).
        link.pending_commands += 1
    link.pubsub_pending.append(Pending(kind, instance))
    return Send(link=link.pubsub, argv=encode_args((master.rename(argv[0]), *argv[1:])))


def reconnect_instance(sentinel: Sentinel, instance: Instance, now: Millis) -> list[Effect]:
    """Open the missing sockets of a disconnected link (spec §5.3).

    Mirrors sentinelReconnectInstance().
    """
    link = instance.link
    if not link.disconnected or instance.addr.port == 0:
        return []
    if now - link.last_reconn_time < sentinel.tunables.ping_period_ms:
        return []
    link.last_reconn_time = now
    out: list[Effect] = []
    source = sentinel.config.bind_source_addr
    id8 = sentinel.myid[:8]
    if link.cmd is None:
        link_id = sentinel.new_link(link, LinkKind.COMMAND, instance)
        link.cmd = link_id
        link.cmd_ready = False
        link.cmd_pending.clear()
        link.pending_commands = 0
        link.cc_conn_time = now
        link.local_host = None
        link.local_port = None
        out.append(
            Connect(link=link_id, kind=LinkKind.COMMAND, addr=instance.addr, source_host=source)
        )
        auth = _auth_argv(sentinel, instance)
        if auth is not None:
            out.append(_must(sentinel.send(instance, *auth, kind=ReplyKind.DISCARD)))
        out.append(
            _must(
                sentinel.send(
                    instance, "CLIENT", "SETNAME", f"sentinel-{id8}-cmd", kind=ReplyKind.DISCARD
                )
            )
        )
        out += send_ping(sentinel, instance, now)
    if not isinstance(instance, SentinelPeer) and link.pubsub is None:
        link_id = sentinel.new_link(link, LinkKind.PUBSUB, instance)
        link.pubsub = link_id
        link.pubsub_ready = False
        link.pubsub_pending.clear()
        link.pc_conn_time = now
        out.append(
            Connect(link=link_id, kind=LinkKind.PUBSUB, addr=instance.addr, source_host=source)
        )
        auth = _auth_argv(sentinel, instance)
        if auth is not None:
            out.append(_must(_send_pubsub(sentinel, instance, ReplyKind.DISCARD, *auth)))
        out.append(
            _must(
                _send_pubsub(
                    sentinel,
                    instance,
                    ReplyKind.DISCARD,
                    "CLIENT",
                    "SETNAME",
                    f"sentinel-{id8}-pubsub",
                )
            )
        )
        out.append(
            _must(_send_pubsub(sentinel, instance, ReplyKind.SUBSCRIBE, "SUBSCRIBE", HELLO_CHANNEL))
        )
    if link.cmd is not None and (isinstance(instance, SentinelPeer) or link.pubsub is not None):
        link.disconnected = False
    return out


def _must(send: Send | None) -> Send:
    # The socket was opened just above, so sending cannot fail.
    assert send is not None
    return send


def close_link_socket(
    sentinel: Sentinel, link: InstanceLink, link_id: LinkId | None
) -> list[Effect]:
    """Close one socket of ``link`` ourselves. Mirrors instanceLinkCloseConnection()."""
    if link_id is None:
        return []
    if link.cmd == link_id:
        link.cmd = None
        link.cmd_ready = False
        link.cmd_pending.clear()
        link.pending_commands = 0
    if link.pubsub == link_id:
        link.pubsub = None
        link.pubsub_ready = False
        link.pubsub_pending.clear()
    link.disconnected = True
    sentinel.forget_link(link_id)
    return [Close(link=link_id)]


def link_connected(link: InstanceLink, link_id: LinkId, local_host: str, local_port: int) -> None:
    """The socket ``link_id`` of ``link`` finished connecting."""
    if link.cmd == link_id:
        link.cmd_ready = True
        link.local_host = local_host
        link.local_port = local_port
    elif link.pubsub == link_id:
        link.pubsub_ready = True


def link_dropped(
    sentinel: Sentinel,
    link: InstanceLink,
    link_id: LinkId,
    owner: Instance,
    *,
    error: str,
    now: Millis,
) -> list[Effect]:
    """The socket failed to connect or was closed by the far side.

    A connect failure is reported with the debug events ``-cmd-link-reconnection`` /
    ``-pubsub-link-reconnection``; either way the socket is gone and the link is
    disconnected, to be reopened by the next reconnect. Pending replies are lost but
    ``pending_commands`` keeps counting them (spec T11). Mirrors
    instanceLinkConnectionError() and the error branches of sentinelReconnectInstance().
    """
    out: list[Effect] = []
    if link.cmd == link_id:
        if not link.cmd_ready:
            out += sentinel.event(EventType.CMD_LINK_RECONNECTION, owner, f"#{error}", now=now)
        link.cmd = None
        link.cmd_ready = False
        link.cmd_pending.clear()
    elif link.pubsub == link_id:
        if not link.pubsub_ready:
            out += sentinel.event(EventType.PUBSUB_LINK_RECONNECTION, owner, f"#{error}", now=now)
        link.pubsub = None
        link.pubsub_ready = False
        link.pubsub_pending.clear()
    else:
        return []
    link.disconnected = True
    sentinel.forget_link(link_id)
    return out


def send_ping(sentinel: Sentinel, instance: Instance, now: Millis) -> list[Effect]:
    """Send a PING, remembering when the oldest unanswered one went out.

    Mirrors sentinelSendPing().
    """
    send = sentinel.send(instance, "PING", kind=ReplyKind.PING)
    if send is None:
        return []
    link = instance.link
    link.last_ping_time = now
    if link.act_ping_time == NEVER:
        link.act_ping_time = now
    return [send]


def send_periodic_commands(sentinel: Sentinel, instance: Instance, now: Millis) -> list[Effect]:
    """INFO, PING and hello when they are due (spec §5.4).

    Mirrors sentinelSendPeriodicCommands().
    """
    from pysentinel.core import hello

    link = instance.link
    if link.disconnected:
        return []
    if link.pending_commands >= MAX_PENDING_COMMANDS * link.refcount:
        return []
    out: list[Effect] = []
    tunables = sentinel.tunables
    info_period = tunables.info_period_ms
    if isinstance(instance, ReplicaInstance):
        master = _master_of(instance)
        if (
            master.odown_since is not None
            or master.failover_in_progress
            or instance.master_link_down_time != 0
        ):
            info_period = FAST_INFO_PERIOD_MS
    ping_period = min(instance.down_after_ms, tunables.ping_period_ms)
    if not isinstance(instance, SentinelPeer) and (
        instance.info_refresh == NEVER or now - instance.info_refresh > info_period
    ):
        send = sentinel.send(instance, "INFO", kind=ReplyKind.INFO)
        if send is not None:
            out.append(send)
    if now - link.last_pong_time > ping_period and now - link.last_ping_time > ping_period // 2:
        out += send_ping(sentinel, instance, now)
    if now - instance.last_pub_time > tunables.publish_period_ms:
        out += hello.send_hello(sentinel, instance, now)
    return out


# --- reply callbacks ---------------------------------------------------------------


def _reply_text(reply: InReply) -> bytes | None:
    """The text of a status or error reply (hiredis's ``r->str``), else None."""
    if isinstance(reply, ErrorReply):
        return reply.message.encode("utf-8", "surrogateescape")
    if isinstance(reply, bytes):
        return reply
    return None


def ping_reply(sentinel: Sentinel, instance: Instance, reply: InReply, now: Millis) -> list[Effect]:
    """Account for a PING reply (spec §5.4). Mirrors sentinelPingReplyCallback()."""
    link = instance.link
    out: list[Effect] = []
    text = _reply_text(reply)
    if text is not None:
        if text.startswith(_ACCEPTABLE_PONG):
            link.last_avail_time = now
            link.act_ping_time = NEVER
            if (
                isinstance(instance, MasterInstance)
                and instance.master_reboot_since_time != NEVER
                and text.startswith(b"PONG")
            ):
                instance.master_reboot_since_time = NEVER
        elif (
            text.startswith(b"BUSY")
            and instance.sdown_since is not None
            and not instance.script_kill_sent
        ):
            send = sentinel.send(instance, "SCRIPT", "KILL", kind=ReplyKind.DISCARD)
            if send is not None:
                out.append(send)
            instance.script_kill_sent = True
    link.last_pong_time = now
    return out


def info_reply(sentinel: Sentinel, instance: Instance, reply: InReply, now: Millis) -> list[Effect]:
    """An INFO reply: parse and act on it unless it is an error. Mirrors
    sentinelInfoReplyCallback().
    """
    from pysentinel.core import info

    if not isinstance(reply, bytes) or not isinstance(instance, MasterInstance | ReplicaInstance):
        return []
    return info.refresh_instance_info(
        sentinel, instance, reply.decode("utf-8", "surrogateescape"), now
    )


def publish_reply(instance: Instance, reply: InReply, now: Millis) -> None:
    """Our hello was published: remember when, unless it was refused (so a refused
    publish is retried on the next tick). Mirrors sentinelPublishReplyCallback().
    """
    if not isinstance(reply, ErrorReply):
        instance.last_pub_time = now

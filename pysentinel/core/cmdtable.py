"""The command table of redis-sentinel 7.0.15 (spec §3.1).

Rules of this module:

* The table is data: the 15 top-level commands and their 57 subcommands with the
  arity, flags, ACL categories and tips that ``COMMAND INFO`` shows for them in
  7.0.15 (first key, last key and step are 0 for all of them: no sentinel command
  takes keys). Nothing here runs a command; ``core/clients.py`` dispatches.
* Order is the order 7.0.15 listed them in when we recorded the table. redis keeps
  commands in a hash table, so its own order is an accident of hashing; ours is
  fixed, which is what determinism wants. ``COMMAND``, ``COMMAND LIST`` and the
  ACL describe pass of ``core/acl.py`` use this order.
* Names are lower case; lookups fold ASCII case like redis's case-insensitive dict.
"""

from __future__ import annotations

from typing import Final

import attrs

__all__ = [
    "ACL_CATEGORIES",
    "COMMANDS",
    "CommandSpec",
    "all_specs",
    "find",
    "lookup",
    "lookup_subcommand",
]


@attrs.frozen
class CommandSpec:
    """One entry of the command table.

    Attributes:
        fullname: ``ping`` or ``container|sub``, as ``COMMAND INFO`` names it.
        arity: positive = exact argc (the command name counts), negative = minimum.
        flags: ``COMMAND INFO`` flags (``fast``, ``no_auth``, ``pubsub`` ...).
        categories: ACL categories without the ``@``.
        tips: ``COMMAND INFO`` tips.
        subcommands: for containers (``CLIENT``, ``ACL`` ...), their entries.
    """

    fullname: str
    arity: int
    flags: tuple[str, ...]
    categories: tuple[str, ...]
    tips: tuple[str, ...]
    subcommands: tuple[CommandSpec, ...] = ()

    @property
    def container(self) -> str | None:
        """The container's name for a subcommand (``client`` for ``client|kill``)."""
        head, sep, _ = self.fullname.partition("|")
        return head if sep else None

    @property
    def subname(self) -> str:
        """The last part of the name (``kill`` for ``client|kill``)."""
        return self.fullname.rpartition("|")[2]

    def has_flag(self, flag: str) -> bool:
        """Whether ``flag`` (e.g. ``no_auth``) is one of this command's flags."""
        return flag in self.flags


def _cmd(
    fullname: str,
    arity: int,
    flags: str,
    categories: str,
    tips: str = "",
    *,
    subs: tuple[CommandSpec, ...] = (),
) -> CommandSpec:
    # Space-separated words keep the table one line per command.
    return CommandSpec(
        fullname, arity, tuple(flags.split()), tuple(categories.split()), tuple(tips.split()), subs
    )


# Word lists shared by many entries.
_ADMIN_FLAGS: Final = "admin noscript loading stale"
_ADMIN_CONN: Final = "admin slow dangerous connection"
_SHUTDOWN_FLAGS: Final = "admin noscript loading stale no_multi allow_busy"
_NONDET: Final = "nondeterministic_output"
_NONDET_ORDER: Final = "nondeterministic_output_order"
_ALL_SHARDS: Final = "request_policy:all_shards response_policy:all_succeeded"
_INFO_TIPS: Final = "nondeterministic_output request_policy:all_shards response_policy:special"

# fmt: off
COMMANDS: Final[tuple[CommandSpec, ...]] = (
    _cmd("ping", -1, "fast", "fast connection", _ALL_SHARDS),
    _cmd("psubscribe", -2, "pubsub noscript loading stale", "pubsub slow"),
    _cmd("hello", -1, "noscript loading stale fast no_auth allow_busy", "fast connection"),
    _cmd("subscribe", -2, "pubsub noscript loading stale", "pubsub slow"),
    _cmd("publish", 3, "pubsub loading stale fast", "pubsub fast"),
    _cmd("info", -1, "loading stale", "slow dangerous", _INFO_TIPS),
    _cmd("shutdown", -1, _SHUTDOWN_FLAGS, "admin slow dangerous"),
    _cmd("auth", -2, "noscript loading stale fast no_auth allow_busy", "fast connection"),
    _cmd("client", -2, "", "slow", subs=(
        _cmd("client|kill", -3, _ADMIN_FLAGS, _ADMIN_CONN),
        _cmd("client|tracking", -3, "noscript loading stale", "slow connection"),
        _cmd("client|no-evict", 3, _ADMIN_FLAGS, _ADMIN_CONN),
        _cmd("client|getredir", 2, "noscript loading stale", "slow connection"),
        _cmd("client|reply", 3, "noscript loading stale", "slow connection"),
        _cmd("client|info", 2, "noscript loading stale", "slow connection", _NONDET),
        _cmd("client|pause", -3, _ADMIN_FLAGS, _ADMIN_CONN),
        _cmd("client|unblock", -3, _ADMIN_FLAGS, _ADMIN_CONN),
        _cmd("client|id", 2, "noscript loading stale", "slow connection"),
        _cmd("client|help", 2, "loading stale", "slow connection"),
        _cmd("client|getname", 2, "noscript loading stale", "slow connection"),
        _cmd("client|caching", 3, "noscript loading stale", "slow connection"),
        _cmd("client|setname", 3, "noscript loading stale", "slow connection"),
        _cmd("client|list", -2, _ADMIN_FLAGS, _ADMIN_CONN, _NONDET),
        _cmd("client|unpause", 2, _ADMIN_FLAGS, _ADMIN_CONN),
        _cmd("client|trackinginfo", 2, "noscript loading stale", "slow connection"),
    )),
    _cmd("command", -1, "loading stale", "slow connection", _NONDET_ORDER, subs=(
        _cmd("command|getkeysandflags", -4, "loading stale", "slow connection"),
        _cmd("command|getkeys", -4, "loading stale", "slow connection"),
        _cmd("command|help", 2, "loading stale", "slow connection"),
        _cmd("command|info", -2, "loading stale", "slow connection", _NONDET_ORDER),
        _cmd("command|list", -2, "loading stale", "slow connection", _NONDET_ORDER),
        _cmd("command|count", 2, "loading stale", "slow connection"),
        _cmd("command|docs", -2, "loading stale", "slow connection", _NONDET_ORDER),
    )),
    _cmd("acl", -2, "", "slow", subs=(
        _cmd("acl|list", 2, _ADMIN_FLAGS, "admin slow dangerous"),
        _cmd("acl|dryrun", -4, _ADMIN_FLAGS, "admin slow dangerous"),
        _cmd("acl|genpass", -2, "noscript loading stale", "slow"),
        _cmd("acl|getuser", 3, _ADMIN_FLAGS, "admin slow dangerous"),
        _cmd("acl|load", 2, _ADMIN_FLAGS, "admin slow dangerous"),
        _cmd("acl|setuser", -3, _ADMIN_FLAGS, "admin slow dangerous"),
        _cmd("acl|users", 2, _ADMIN_FLAGS, "admin slow dangerous"),
        _cmd("acl|log", -2, _ADMIN_FLAGS, "admin slow dangerous"),
        _cmd("acl|save", 2, _ADMIN_FLAGS, "admin slow dangerous"),
        _cmd("acl|deluser", -3, _ADMIN_FLAGS, "admin slow dangerous"),
        _cmd("acl|whoami", 2, "noscript loading stale", "slow"),
        _cmd("acl|help", 2, "loading stale", "slow"),
        _cmd("acl|cat", -2, "noscript loading stale", "slow"),
    )),
    _cmd("sentinel", -2, "admin", "admin slow dangerous", subs=(
        _cmd("sentinel|remove", 3, "admin", "admin slow dangerous"),
        _cmd("sentinel|masters", 2, "admin", "admin slow dangerous"),
        _cmd("sentinel|debug", -2, "admin", "admin slow dangerous"),
        _cmd("sentinel|info-cache", -3, "admin", "admin slow dangerous"),
        _cmd("sentinel|help", 2, "loading stale", "slow"),
        _cmd("sentinel|ckquorum", 3, "admin", "admin slow dangerous"),
        _cmd("sentinel|master", 3, "admin", "admin slow dangerous"),
        _cmd("sentinel|flushconfig", 2, "admin", "admin slow dangerous"),
        _cmd("sentinel|config", -3, "admin", "admin slow dangerous"),
        _cmd("sentinel|monitor", 6, "admin", "admin slow dangerous"),
        _cmd("sentinel|myid", 2, "admin", "admin slow dangerous"),
        _cmd("sentinel|slaves", 3, "admin", "admin slow dangerous"),
        _cmd("sentinel|simulate-failure", -3, "admin", "admin slow dangerous"),
        _cmd("sentinel|failover", 3, "admin", "admin slow dangerous"),
        _cmd("sentinel|get-master-addr-by-name", 3, "admin", "admin slow dangerous"),
        _cmd("sentinel|replicas", 3, "admin", "admin slow dangerous"),
        _cmd("sentinel|pending-scripts", 2, "admin", "admin slow dangerous"),
        _cmd("sentinel|sentinels", 3, "admin", "admin slow dangerous"),
        _cmd("sentinel|reset", 3, "admin", "admin slow dangerous"),
        _cmd("sentinel|set", -5, "admin", "admin slow dangerous"),
        _cmd("sentinel|is-master-down-by-addr", 6, "admin", "admin slow dangerous"),
    )),
    _cmd("unsubscribe", -1, "pubsub noscript loading stale", "pubsub slow"),
    _cmd("punsubscribe", -1, "pubsub noscript loading stale", "pubsub slow"),
    _cmd("role", 1, "noscript loading stale fast", "admin fast dangerous"),
)
# fmt: on

#: ACL categories in redis 7.0's order (``ACL CAT``).
ACL_CATEGORIES: Final[tuple[str, ...]] = (
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
    "dangerous", "connection", "transaction", "scripting",
)  # fmt: skip

_BY_NAME: Final[dict[str, CommandSpec]] = {spec.fullname: spec for spec in COMMANDS}
_SUBS: Final[dict[str, dict[str, CommandSpec]]] = {
    spec.fullname: {sub.subname: sub for sub in spec.subcommands}
    for spec in COMMANDS
    if spec.subcommands
}


def _fold(name: bytes | str) -> str | None:
    try:
        text = name.decode() if isinstance(name, bytes) else name
    except UnicodeDecodeError:
        return None
    # ASCII case folding only, as redis's dictSdsCaseHash/strcasecmp.
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def lookup(name: bytes | str) -> CommandSpec | None:
    """The top-level command called ``name`` (any case), or None."""
    folded = _fold(name)
    return None if folded is None else _BY_NAME.get(folded)


def lookup_subcommand(container: CommandSpec, name: bytes | str) -> CommandSpec | None:
    """The subcommand ``name`` (any case) of ``container``, or None."""
    folded = _fold(name)
    if folded is None:
        return None
    return _SUBS.get(container.fullname, {}).get(folded)


def all_specs() -> tuple[CommandSpec, ...]:
    """Every entry, each container followed by its subcommands (72 in all)."""
    out: list[CommandSpec] = []
    for spec in COMMANDS:
        out.append(spec)
        out.extend(spec.subcommands)
    return tuple(out)


def find(fullname: str) -> CommandSpec | None:
    """The entry for a full name such as ``client|kill`` (any case), or None."""
    head, sep, sub = fullname.partition("|")
    spec = lookup(head)
    if spec is None or not sep:
        return spec
    return lookup_subcommand(spec, sub)

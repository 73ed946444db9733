"""Users and permissions for clients of our port (redis 7.0's ACL, spec §9.6).

Rules of this module:

* :class:`Acl` holds the users; :class:`User` is one user with its passwords,
  channel rules and command bits. Key rules are kept and described but never
  checked: no sentinel command takes keys.
* Commands are permitted per full name (``ping``, ``client|kill``), the bits of
  redis's ``allowed_commands``; ``allcommands``/``+@all`` also grants commands that
  do not exist yet (redis's reserved bit), which decides whether a user's
  description starts with ``+@all`` or ``-@all``.
* ``ACL SETUSER`` is atomic: rules are applied to a copy and the copy replaces the
  user only when every rule was valid (redis 7.0 does the same).
* The describe pass (``ACL LIST``, ``GETUSER`` commands) regenerates the rules from
  the bits with redis's best-fit-category algorithm, so ``+ping -ping`` describes
  as ``-@all``, exactly as 7.0.15 prints it.
* Passwords are stored as lower-case hex SHA-256, as redis stores them.
* Selectors (``(...)``, ``clearselectors``) and first-argument rules
  (``+select|0``) are not supported: they are syntax errors here (see
  docs/deviations.md).
"""

from __future__ import annotations

import hashlib
from typing import Final

import attrs

from pysentinel.core import cmdtable
from pysentinel.core.cmdtable import ACL_CATEGORIES, CommandSpec
from pysentinel.core.glob import string_match

__all__ = ["Acl", "AclError", "User", "hash_password"]

_ERR_UNKNOWN: Final = "Unknown command or category name in ACL"
_ERR_SYNTAX: Final = "Syntax error"
_ERR_KEYS_AFTER_ALL: Final = (
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not"
    " have any effect. Try 'resetkeys' to start with an empty list of patterns"
)
_ERR_CHANNELS_AFTER_ALL: Final = (
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does"
    " not have any effect. Try 'resetchannels' to start with an empty list of channels"
)
_ERR_NO_SUCH_PASSWORD: Final = "The password you are trying to remove from the user does not exist"
_ERR_BAD_HASH: Final = (
    "The password hash must be exactly 64 characters and contain only lowercase"
    " hexadecimal characters"
)

#: Every entry of the command table, containers before their subcommands.
_ALL: Final[tuple[CommandSpec, ...]] = cmdtable.all_specs()
_HEX: Final = frozenset("0123456789abcdef")


class AclError(ValueError):
    """An ``ACL SETUSER`` rule was rejected; ``str()`` is redis's reason text."""


def hash_password(password: bytes) -> str:
    """The lower-case hex SHA-256 of ``password``, as redis stores it."""
    return hashlib.sha256(password).hexdigest()


def _in_category(spec: CommandSpec, category: str) -> bool:
    return category in spec.categories


@attrs.define(eq=False)
class User:
    """One ACL user (redis's ``user`` struct with its root selector).

    Attributes:
        name: the user name.
        enabled: ``on`` / ``off``.
        nopass: any password is accepted.
        sanitize: ``None`` when neither ``sanitize-payload`` nor
            ``skip-sanitize-payload`` was set, else which one.
        passwords: hex SHA-256 digests, in the order added.
        allkeys: ``~*`` / ``allkeys``.
        keys: key patterns with their prefix (``~k*``, ``%R~k*``).
        allchannels: ``&*`` / ``allchannels``.
        channels: channel patterns (without the ``&``).
        allowed: full names of the permitted commands.
        future: the reserved "commands that don't exist yet" bit of ``+@all``.
    """

    name: str
    enabled: bool = False
    nopass: bool = False
    sanitize: bool | None = None
    passwords: list[str] = attrs.Factory(list)
    allkeys: bool = False
    keys: list[str] = attrs.Factory(list)
    allchannels: bool = False
    channels: list[bytes] = attrs.Factory(list)
    allowed: set[str] = attrs.Factory(set)
    future: bool = False

    def copy(self) -> User:
        """An independent copy (for atomic ``SETUSER``)."""
        return User(
            name=self.name,
            enabled=self.enabled,
            nopass=self.nopass,
            sanitize=self.sanitize,
            passwords=list(self.passwords),
            allkeys=self.allkeys,
            keys=list(self.keys),
            allchannels=self.allchannels,
            channels=list(self.channels),
            allowed=set(self.allowed),
            future=self.future,
        )

    # --- rules ---------------------------------------------------------------

    def apply(self, rule: bytes) -> None:
        """Apply one ``ACL SETUSER`` rule.

        Raises:
            AclError: the rule is invalid (the user may be partly changed: callers
                apply rules to a copy).

        Mirrors ACLSetUser() for the root selector.
        """
        text = rule.decode(errors="replace")
        lower = text.lower()
        simple = _SIMPLE_RULES.get(lower)
        if simple is not None:
            simple(self)
            return
        head = text[:1]
        if head == ">":
            self._add_password(hash_password(rule[1:]))
        elif head == "#":
            self._add_password(_check_hash(text[1:]))
        elif head == "<":
            self._remove_password(hash_password(rule[1:]))
        elif head == "!":
            self._remove_password(_check_hash(text[1:]))
        elif head in ("~", "%"):
            self._add_key_pattern(text)
        elif head == "&":
            if self.allchannels:
                raise AclError(_ERR_CHANNELS_AFTER_ALL)
            pattern = rule[1:]
            if pattern not in self.channels:
                self.channels.append(pattern)
        elif head in ("+", "-"):
            self._command_rule(lower[1:], allow=head == "+")
        else:
            raise AclError(_ERR_SYNTAX)

    def _add_password(self, digest: str) -> None:
        if digest not in self.passwords:
            self.passwords.append(digest)
        self.nopass = False

    def _remove_password(self, digest: str) -> None:
        if digest not in self.passwords:
            raise AclError(_ERR_NO_SUCH_PASSWORD)
        self.passwords.remove(digest)
        self.nopass = False

    def _add_key_pattern(self, text: str) -> None:
        if text.startswith("%"):
            perms, sep, pattern = text[1:].partition("~")
            if not sep or not perms or any(c not in "RWrw" for c in perms):
                raise AclError(_ERR_SYNTAX)
            kinds = set(perms.upper())
            # %RW~ is a plain pattern; %R~/%W~ keep their prefix (upper case).
            text = "~" + pattern if kinds == {"R", "W"} else f"%{kinds.pop()}~{pattern}"
        if text == "~*":
            self.allkeys = True
            self.keys.clear()
            return
        if self.allkeys:
            raise AclError(_ERR_KEYS_AFTER_ALL)
        if text not in self.keys:
            self.keys.append(text)

    def _command_rule(self, name: str, *, allow: bool) -> None:
        if name.startswith("@"):
            category = name[1:]
            if category == "all":
                self._set_all(allow)
                return
            if category not in ACL_CATEGORIES:
                raise AclError(_ERR_UNKNOWN)
            self.set_category(category, allow)
            return
        head, sep, sub = name.partition("|")
        spec = cmdtable.lookup(head)
        if spec is None:
            raise AclError(_ERR_UNKNOWN)
        if sep:
            if not spec.subcommands or not sub or "|" in sub:
                # First-argument rules (+select|0) are not supported here.
                raise AclError(_ERR_UNKNOWN if spec.subcommands else _ERR_SYNTAX)
            found = cmdtable.lookup_subcommand(spec, sub)
            if found is None:
                raise AclError(_ERR_UNKNOWN)
            spec = found
        self.change_perm(spec, allow)

    def _set_all(self, allow: bool) -> None:
        self.future = allow
        if allow:
            self.allowed = {spec.fullname for spec in _ALL}
        else:
            self.allowed = set()

    def change_perm(self, spec: CommandSpec, allow: bool) -> None:
        """Set the bit of ``spec`` (and of all its subcommands, for a container).

        Mirrors ACLChangeSelectorPerm().
        """
        names = [spec.fullname] + [sub.fullname for sub in spec.subcommands]
        if allow:
            self.allowed.update(names)
        else:
            self.allowed.difference_update(names)

    def set_category(self, category: str, allow: bool) -> None:
        """Set the bits of every command in ``category``.

        Mirrors ACLSetSelectorCommandBitsForCategory().
        """
        for spec in cmdtable.COMMANDS:
            if _in_category(spec, category):
                self.change_perm(spec, allow)
            for sub in spec.subcommands:
                if _in_category(sub, category):
                    self.change_perm(sub, allow)

    def _count_category(self, category: str) -> tuple[int, int]:
        on = off = 0
        for spec in _ALL:
            if _in_category(spec, category):
                if spec.fullname in self.allowed:
                    on += 1
                else:
                    off += 1
        return on, off

    # --- checks --------------------------------------------------------------

    def can_run(self, spec: CommandSpec) -> bool:
        """Whether this user may run ``spec`` (``no_auth`` commands always pass)."""
        return spec.has_flag("no_auth") or spec.fullname in self.allowed

    def can_access_channel(self, channel: bytes, *, is_pattern: bool) -> bool:
        """Whether this user may use ``channel`` (a PSUBSCRIBE pattern must be listed as is).

        Mirrors ACLCheckChannelAgainstList().
        """
        if self.allchannels:
            return True
        for allowed in self.channels:
            if is_pattern:
                if allowed == channel:
                    return True
            elif string_match(allowed, channel):
                return True
        return False

    def check_password(self, password: bytes) -> bool:
        """Whether ``password`` opens this user (it must be enabled)."""
        if not self.enabled:
            return False
        return self.nopass or hash_password(password) in self.passwords

    # --- description ----------------------------------------------------------

    def flags(self) -> list[str]:
        """The flag words: ``on``/``off``, ``nopass``, the sanitize flag."""
        out = ["on" if self.enabled else "off"]
        if self.nopass:
            out.append("nopass")
        if self.sanitize is False:
            out.append("skip-sanitize-payload")
        elif self.sanitize is True:
            out.append("sanitize-payload")
        return out

    def describe_keys(self) -> str:
        """``~*`` or the key patterns, space-separated."""
        return "~*" if self.allkeys else " ".join(self.keys)

    def describe_channels(self) -> str:
        """``&*`` or the channel patterns, space-separated (``ACL GETUSER`` form)."""
        if self.allchannels:
            return "&*"
        return " ".join("&" + c.decode(errors="replace") for c in self.channels)

    def describe_commands(self) -> str:
        """The command rules regenerated from the bits.

        Mirrors ACLDescribeSelectorCommandRules().
        """
        additive = not self.future
        parts = ["-@all" if additive else "+@all"]
        fake = User(name="")
        fake._set_all(not additive)
        temp = User(name="", allowed=set(self.allowed))
        while True:
            best: str | None = None
            mindiff, maxsame = 1 << 62, 0
            for category in ACL_CATEGORIES:
                on, off = temp._count_category(category)
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (diff < mindiff or (diff == mindiff and same > maxsame)):
                    best, mindiff, maxsame = category, diff, same
            if best is None:
                break
            fake.set_category(best, additive)
            temp.set_category(best, not additive)
            parts.append(("+@" if additive else "-@") + best)
        for spec in cmdtable.COMMANDS:
            for entry in (spec, *spec.subcommands):
                mine = entry.fullname in self.allowed
                if mine != (entry.fullname in fake.allowed):
                    parts.append(("+" if mine else "-") + entry.fullname)
                    fake.change_perm(entry, mine)
        return " ".join(parts)

    def describe(self) -> str:
        """The ``ACL LIST`` line without the leading ``user <name> ``.

        Mirrors ACLDescribeUser().
        """
        parts = self.flags()
        parts.extend("#" + digest for digest in self.passwords)
        if self.allkeys:
            parts.append("~*")
        else:
            parts.extend(self.keys)
        if self.allchannels:
            parts.append("&*")
        else:
            parts.append("resetchannels")
            parts.extend("&" + c.decode(errors="replace") for c in self.channels)
        parts.append(self.describe_commands())
        return " ".join(parts)


def _check_hash(text: str) -> str:
    if len(text) != 64 or any(c not in _HEX for c in text):
        raise AclError(_ERR_BAD_HASH)
    return text


def _on(u: User) -> None:
    u.enabled = True


def _off(u: User) -> None:
    u.enabled = False


def _nopass(u: User) -> None:
    u.nopass = True
    u.passwords.clear()


def _resetpass(u: User) -> None:
    u.nopass = False
    u.passwords.clear()


def _allkeys(u: User) -> None:
    u.allkeys = True
    u.keys.clear()


def _resetkeys(u: User) -> None:
    u.allkeys = False
    u.keys.clear()


def _allchannels(u: User) -> None:
    u.allchannels = True
    u.channels.clear()


def _resetchannels(u: User) -> None:
    u.allchannels = False
    u.channels.clear()


def _allcommands(u: User) -> None:
    u._set_all(True)


def _nocommands(u: User) -> None:
    u._set_all(False)


def _sanitize(u: User) -> None:
    u.sanitize = True


def _skip_sanitize(u: User) -> None:
    u.sanitize = False


def _reset(u: User) -> None:
    # 7.0: resetpass resetkeys resetchannels off -@all sanitize-payload
    # (acl-pubsub-default is resetchannels in 7.0).
    _resetpass(u)
    _resetkeys(u)
    _resetchannels(u)
    _off(u)
    _nocommands(u)
    _sanitize(u)


_SIMPLE_RULES: Final = {
    "on": _on,
    "off": _off,
    "nopass": _nopass,
    "resetpass": _resetpass,
    "allkeys": _allkeys,
    "resetkeys": _resetkeys,
    "allchannels": _allchannels,
    "&*": _allchannels,
    "resetchannels": _resetchannels,
    "allcommands": _allcommands,
    "nocommands": _nocommands,
    "sanitize-payload": _sanitize,
    "skip-sanitize-payload": _skip_sanitize,
    "reset": _reset,
}


def _default_user() -> User:
    user = User(name="default", enabled=True, nopass=True, allkeys=True, allchannels=True)
    user._set_all(True)
    return user


@attrs.define(eq=False)
class Acl:
    """All users, by name. ``default`` always exists."""

    users: dict[str, User] = attrs.Factory(lambda: {"default": _default_user()})

    @classmethod
    def from_config(cls, requirepass: str | None, user_lines: tuple[tuple[str, ...], ...]) -> Acl:
        """The users of a freshly started sentinel.

        ``requirepass`` sets the default user's only password; ``user`` lines are
        applied afterwards (a ``user default`` line starts from ``reset``). Lines the
        config loader let through but we can't apply are skipped.

        Mirrors ACLInit() + ACLUpdateDefaultUserPassword() + ACLLoadConfiguredUsers().
        """
        acl = cls()
        if requirepass:
            default = acl.users["default"]
            _resetpass(default)
            default.apply(b">" + requirepass.encode())
        for line in user_lines:
            if not line:
                continue
            name = line[0]
            user = acl.users.get(name)
            new = User(name=name) if user is None else user.copy()
            if user is not None:
                _reset(new)
            try:
                for rule in line[1:]:
                    new.apply(rule.encode())
            except AclError:
                continue
            acl.users[name] = new
        return acl

    def get(self, name: bytes | str) -> User | None:
        """The user called ``name`` (case-sensitive), or None."""
        key = name.decode(errors="replace") if isinstance(name, bytes) else name
        return self.users.get(key)

    def setuser(self, name: bytes, rules: tuple[bytes, ...]) -> None:
        """``ACL SETUSER name rules...``, atomically.

        Raises:
            AclError: with redis's full message
                (``Error in ACL SETUSER modifier '<rule>': <reason>``).
        """
        key = name.decode(errors="replace")
        existing = self.users.get(key)
        new = User(name=key) if existing is None else existing.copy()
        for rule in rules:
            try:
                new.apply(rule)
            except AclError as exc:
                text = rule.decode(errors="replace")
                raise AclError(f"Error in ACL SETUSER modifier '{text}': {exc}") from None
        if existing is None:
            self.users[key] = new
        else:
            # Keep identity: clients hold the user by name, but snapshots may not.
            attrs_values = attrs.asdict(new, recurse=False)
            for field, value in attrs_values.items():
                setattr(existing, field, value)

    def delete(self, name: str) -> bool:
        """Remove a user (not ``default``); whether it existed."""
        assert name != "default"
        return self.users.pop(name, None) is not None

    def sorted_names(self) -> list[str]:
        """User names in redis's (radix tree) order: bytewise sorted."""
        return sorted(self.users, key=lambda n: n.encode())

    def config_lines(self) -> tuple[tuple[str, ...], ...]:
        """The users as ``user`` directive arguments, for a config flush (spec §3.4).

        Each entry is ``(name, rule, rule, ...)`` in ``ACL LIST`` order, the form of
        ``SentinelConfig.users``. Mirrors rewriteConfigUserOption().
        """
        return tuple(
            (name, *self.users[name].describe().split(" ")) for name in self.sorted_names()
        )

    def auth_required(self) -> bool:
        """Whether a client that never authenticated gets NOAUTH (redis's authRequired())."""
        default = self.users["default"]
        return not default.nopass or not default.enabled

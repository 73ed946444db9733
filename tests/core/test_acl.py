"""ACL users, rules and the describe pass (core/acl.py).

Expected describe lines were observed on redis-sentinel 7.0.15 (the differential
test in tests/interop re-checks a subset against the live binary).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pysentinel.core import cmdtable
from pysentinel.core.acl import Acl, AclError, User, hash_password


def _setuser(acl: Acl, name: str, rules: str) -> None:
    acl.setuser(name.encode(), tuple(r.encode() for r in rules.split()))


@pytest.mark.parametrize(
    ("rules", "described"),
    [
        ("-@all +ping -ping", "off resetchannels -@all"),
        ("+@all -ping +ping", "off resetchannels +@all"),
        ("-@all +@pubsub -subscribe", "off resetchannels -@all +@pubsub -subscribe"),
        ("+@all -ping", "off resetchannels +@all -ping"),
        ("+@pubsub +subscribe -@pubsub", "off resetchannels -@all"),
        ("+ping +@fast -ping +ping", "off resetchannels -@all +@fast"),
        (
            "+client -client|kill",
            "off resetchannels -@all +@connection -ping -hello -auth +client -client|kill -command",
        ),
        ("+@all -@dangerous", "off resetchannels +@all -@dangerous"),
        ("reset", "off sanitize-payload resetchannels -@all"),
        ("allchannels resetchannels &x", "off resetchannels &x -@all"),
        ("skip-sanitize-payload on", "on skip-sanitize-payload resetchannels -@all"),
        ("allkeys allchannels allcommands nocommands", "off ~* &* -@all"),
        ("~a ~b ~a %R~c", "off ~a ~b %R~c resetchannels -@all"),
        ("%RW~*", "off ~* resetchannels -@all"),
        ("%R~* ~a %wr~x %w~y", "off %R~* ~a ~x %W~y resetchannels -@all"),
        ("&a &a", "off resetchannels &a -@all"),
    ],
)
def test_acl_describe_matches_redis(rules: str, described: str) -> None:
    acl = Acl()
    _setuser(acl, "u", rules)
    user = acl.users["u"]
    assert user.describe() == described


def test_acl_default_user() -> None:
    acl = Acl()
    assert acl.users["default"].describe() == "on nopass ~* &* +@all"
    assert not acl.auth_required()
    assert acl.sorted_names() == ["default"]


def test_acl_passwords_hash_add_remove() -> None:
    acl = Acl()
    _setuser(acl, "u", ">a >b >a <b")
    user = acl.users["u"]
    assert user.passwords == [hash_password(b"a")]
    _setuser(acl, "u", f"#{hash_password(b'c')} !{hash_password(b'a')}")
    assert user.passwords == [hash_password(b"c")]
    _setuser(acl, "u", "nopass")
    assert user.nopass and user.passwords == []
    _setuser(acl, "u", ">x")
    assert not user.nopass
    _setuser(acl, "u", "resetpass")
    assert user.passwords == [] and not user.nopass


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("foo", "Syntax error"),
        ("+nosuch", "Unknown command or category name in ACL"),
        ("+client|nosuch", "Unknown command or category name in ACL"),
        ("+client|", "Unknown command or category name in ACL"),
        ("+@nosuch", "Unknown command or category name in ACL"),
        ("+ping|x", "Syntax error"),
        (
            "#abc",
            "The password hash must be exactly 64 characters and contain only lowercase"
            " hexadecimal characters",
        ),
        ("<nope", "The password you are trying to remove from the user does not exist"),
        ("%X~k", "Syntax error"),
        ("%R", "Syntax error"),
    ],
)
def test_acl_setuser_errors(rule: str, reason: str) -> None:
    acl = Acl()
    with pytest.raises(AclError) as info:
        acl.setuser(b"u", (b"on", rule.encode()))
    assert str(info.value) == f"Error in ACL SETUSER modifier '{rule}': {reason}"
    # Atomic: the user was not created.
    assert "u" not in acl.users


def test_acl_setuser_is_atomic_on_existing_user() -> None:
    acl = Acl()
    _setuser(acl, "u", "on >pw +ping")
    with pytest.raises(AclError):
        _setuser(acl, "u", "off -ping foo")
    user = acl.users["u"]
    assert user.enabled and "ping" in user.allowed


def test_acl_pattern_after_all_is_rejected() -> None:
    acl = Acl()
    with pytest.raises(AclError, match="allkeys"):
        _setuser(acl, "u", "allkeys ~x")
    with pytest.raises(AclError, match="allchannels"):
        _setuser(acl, "u", "allchannels &x")


def test_acl_checks_commands_and_channels() -> None:
    acl = Acl()
    _setuser(acl, "u", "on nopass +ping +client|id &news* &exact")
    user = acl.users["u"]
    ping = cmdtable.find("ping")
    auth = cmdtable.find("auth")
    info = cmdtable.find("info")
    client_id = cmdtable.find("client|id")
    assert ping and auth and info and client_id
    assert user.can_run(ping) and user.can_run(client_id)
    assert user.can_run(auth)  # no_auth commands always pass
    assert not user.can_run(info)
    assert user.can_access_channel(b"news1", is_pattern=False)
    assert not user.can_access_channel(b"other", is_pattern=False)
    # A PSUBSCRIBE pattern must be one of the user's patterns, literally.
    assert user.can_access_channel(b"news*", is_pattern=True)
    assert not user.can_access_channel(b"news1", is_pattern=True)
    assert acl.users["default"].can_access_channel(b"x", is_pattern=True)


def test_acl_check_password_respects_enabled() -> None:
    user = User(name="u", enabled=True, passwords=[hash_password(b"pw")])
    assert user.check_password(b"pw")
    assert not user.check_password(b"no")
    user.enabled = False
    assert not user.check_password(b"pw")


def test_acl_from_config_requirepass_and_user_lines() -> None:
    acl = Acl.from_config("secret", (("bob", "on", ">x", "+@all"), ("bad", "foo"), ()))
    default = acl.users["default"]
    assert default.passwords == [hash_password(b"secret")]
    assert acl.auth_required()
    assert acl.users["bob"].check_password(b"x")
    assert "bad" not in acl.users  # lines we can't apply are skipped


def test_acl_from_config_user_default_line_starts_from_reset() -> None:
    acl = Acl.from_config(None, (("default", "on", "nopass", "~*", "&*", "+@all"),))
    assert acl.users["default"].describe() == "on nopass sanitize-payload ~* &* +@all"
    acl = Acl.from_config(None, (("default", "off"),))
    assert acl.auth_required()


def test_acl_getuser_parts_and_delete() -> None:
    acl = Acl()
    _setuser(acl, "u", "on ~k* &ch* +@pubsub")
    user = acl.get(b"u")
    assert user is not None
    assert user.flags() == ["on"]
    assert user.describe_keys() == "~k*"
    assert user.describe_channels() == "&ch*"
    assert user.describe_commands() == "-@all +@pubsub"
    assert acl.users["default"].describe_channels() == "&*"
    assert acl.delete("u") and not acl.delete("u")
    assert acl.get("u") is None


def test_acl_users_sort_bytewise() -> None:
    acl = Acl()
    for name in ("b", "B", "a", "default"):
        _setuser(acl, name, "on")
    assert acl.sorted_names() == ["B", "a", "b", "default"]


def test_acl_config_lines_round_trip() -> None:
    acl = Acl()
    _setuser(acl, "bob", "on >pw ~k* &c* +@pubsub -subscribe")
    lines = acl.config_lines()
    assert lines[0][0] == "bob"
    assert lines[1] == ("default", "on", "nopass", "~*", "&*", "+@all")
    again = Acl.from_config(None, lines)
    assert [again.users[n].describe() for n in again.sorted_names()] == [
        acl.users["bob"].describe(),
        "on nopass sanitize-payload ~* &* +@all",
    ]


_RULES = st.sampled_from(
    [
        "+@all", "-@all", "allcommands", "nocommands", "+ping", "-ping", "+client",
        "-client", "+client|kill", "-client|kill", "+client|id", "+@pubsub", "-@pubsub",
        "+@admin", "-@admin", "+@fast", "-@fast", "+@slow", "-@slow", "+@connection",
        "-@connection", "+@dangerous", "-@dangerous", "+sentinel", "-sentinel|masters",
        "+acl|whoami", "-command", "+command|count", "+@keyspace",
    ]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(_RULES, max_size=12))
def test_acl_describe_round_trips_the_bits(rules: list[str]) -> None:
    # redis panics if its description does not reproduce the bitmap; we check it.
    acl = Acl()
    _setuser(acl, "u", " ".join(rules) or "off")
    user = acl.users["u"]
    again = Acl()
    _setuser(again, "v", user.describe_commands())
    assert again.users["v"].allowed == user.allowed
    assert again.users["v"].future == user.future

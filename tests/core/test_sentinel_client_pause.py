"""CLIENT PAUSE through the real Sentinel: held commands run as soon as the pause ends."""

from __future__ import annotations

from helpers import Harness, master_config, sentinel_config

from pysentinel.core.effects import Reply
from pysentinel.core.inputs import ClientCommand, ClientConnected
from pysentinel.core.types import ClientId, Millis
from pysentinel.core.values import Simple


def test_sentinel_client_pause_releases_held_command_at_pause_end() -> None:
    harness = Harness(sentinel_config(master_config()))
    harness.start()
    harness.handle(ClientConnected(client=ClientId(1), addr="127.0.0.1:5000", laddr="x"))
    harness.handle(ClientConnected(client=ClientId(2), addr="127.0.0.1:5001", laddr="x"))
    paused = harness.handle(
        ClientCommand(client=ClientId(1), argv=(b"CLIENT", b"PAUSE", b"5000", b"ALL"))
    )
    assert Reply(client=ClientId(1), value=Simple("OK")) in paused
    held = harness.handle(ClientCommand(client=ClientId(2), argv=(b"PING",)))
    assert not any(isinstance(e, Reply) for e in held)
    pause_end = harness.now + 5000
    # The sentinel timer keeps its 10-19 Hz pace during the pause ...
    deadline = harness.sentinel.next_deadline()
    assert deadline is not None and deadline <= harness.now + 100
    during = harness.advance(4900)
    assert not [e for e in during if isinstance(e, Reply) and e.client == ClientId(2)]
    # ... and the end of the pause is a deadline of its own, not the next timer tick.
    harness.sentinel._next_tick = Millis(pause_end + 50)
    assert harness.sentinel.next_deadline() == pause_end
    released = harness.tick(pause_end - harness.now)
    assert Reply(client=ClientId(2), value=Simple("PONG")) in released

"""The invariants catch real bugs: plant known bugs in the core through a test-only
hook (monkeypatching the election functions) and show that the same property test
that passes on the real core fails within the CI budget.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import Phase, given, settings
from test_sim_schedules import SEEDS, check_safety

from pysentinel.core import election
from pysentinel.core.instance import MasterInstance
from pysentinel.core.types import Epoch, Millis, RunId

#: The CI budget of the planted-bug searches (the real property runs 500 examples).
BUDGET = settings(
    max_examples=300, deadline=None, derandomize=True, database=None, phases=[Phase.generate]
)


def _property_fails(check: Callable[[int], None]) -> str:
    """Run the safety property with the CI budget; return the failure text."""

    @BUDGET
    @given(seed=SEEDS)
    def prop(seed: int) -> None:
        check(seed)

    with pytest.raises(AssertionError) as info:
        prop()
    return str(info.value)


def test_planted_leader_without_majority_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = election.get_leader

    def lenient(
        sentinel: election.SentinelLike, master: MasterInstance, epoch: Epoch, now: Millis
    ) -> tuple[RunId | None, list[object]]:
        winner, effects = real(sentinel, master, epoch, now)
        if winner is None and master.leader is not None and master.leader_epoch == epoch:
            # Planted bug: our own vote is enough (ignores the majority of spec §7.3).
            winner = master.leader
        return winner, effects  # type: ignore[return-value]

    monkeypatch.setattr(election, "get_leader", lenient)
    text = _property_fails(check_safety)
    assert "leader-without-majority" in text or "two-leaders" in text, text


def test_planted_double_vote_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = election.vote_leader

    def forgetful(
        sentinel: election.SentinelLike,
        master: MasterInstance,
        req_epoch: Epoch,
        req_runid: RunId,
        now: Millis,
    ) -> tuple[RunId | None, Epoch, list[object]]:
        if master.leader_epoch == req_epoch:
            # Planted bug: forget the vote already cast in this epoch.
            master.leader_epoch = Epoch(req_epoch - 1)
        return real(sentinel, master, req_epoch, req_runid, now)  # type: ignore[return-value]

    monkeypatch.setattr(election, "vote_leader", forgetful)
    text = _property_fails(check_safety)
    assert "voted-twice" in text or "two-leaders" in text, text

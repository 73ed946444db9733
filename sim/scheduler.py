"""The discrete-event loop: a heap of ``(time_ms, seq, action)`` and a virtual clock.

Rules of this module:

* Time is integer milliseconds of virtual time, starting at 0. Nothing here reads a
  real clock.
* Ties are broken by an insertion counter (``seq``), never by ``id()`` or by
  comparing actions, so the same schedule always runs in the same order (STYLE §3).
* An action is a zero-argument callable. Cancelling is done by the owner (a timer
  holds a generation number and ignores stale firings); the heap never searches.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

__all__ = ["Scheduler", "Timer"]

Action = Callable[[], None]


class Scheduler:
    """A virtual clock and the queue of what happens next."""

    def __init__(self) -> None:
        self.now: int = 0
        self._seq = 0
        self._heap: list[tuple[int, int, Action]] = []
        #: How many actions ran (for speed measurements).
        self.steps = 0

    def at(self, when: int, action: Action) -> None:
        """Run ``action`` at virtual time ``when`` (never in the past)."""
        self._seq += 1
        heapq.heappush(self._heap, (max(when, self.now), self._seq, action))

    def after(self, delay: int, action: Action) -> None:
        """Run ``action`` ``delay`` milliseconds from now."""
        self.at(self.now + delay, action)

    def next_time(self) -> int | None:
        """When the next action is due, or ``None`` when nothing is scheduled."""
        return self._heap[0][0] if self._heap else None

    def step(self) -> bool:
        """Run the next action; False when the queue is empty."""
        if not self._heap:
            return False
        when, _, action = heapq.heappop(self._heap)
        self.now = when
        self.steps += 1
        action()
        return True

    def run_until(self, until: int, after_step: Callable[[], None] | None = None) -> None:
        """Run every action due at or before ``until``, then set the clock to ``until``.

        ``after_step`` runs after each action (the safety invariants hook in here).
        """
        while self._heap and self._heap[0][0] <= until:
            self.step()
            if after_step is not None:
                after_step()
        self.now = max(self.now, until)


class Timer:
    """One re-armable timer on a scheduler: arming it again cancels the previous firing."""

    def __init__(self, scheduler: Scheduler, action: Action) -> None:
        self._scheduler = scheduler
        self._action = action
        self._generation = 0
        #: When the timer fires next, ``None`` when disarmed.
        self.due: int | None = None

    def arm(self, when: int) -> None:
        """Fire at ``when`` (replacing any earlier arming)."""
        self._generation += 1
        generation = self._generation
        self.due = when

        def fire() -> None:
            if generation == self._generation:
                self.due = None
                self._action()

        self._scheduler.at(when, fire)

    def cancel(self) -> None:
        """Do not fire."""
        self._generation += 1
        self.due = None

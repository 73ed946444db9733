"""The event heap: time order, insertion order on ties, timers."""

from __future__ import annotations

from sim.scheduler import Scheduler, Timer


def test_scheduler_runs_in_time_then_insertion_order() -> None:
    s = Scheduler()
    seen: list[str] = []
    s.at(20, lambda: seen.append("b"))
    s.at(10, lambda: seen.append("a"))
    s.at(20, lambda: seen.append("c"))
    s.run_until(100)
    assert seen == ["a", "b", "c"]
    assert s.now == 100


def test_scheduler_never_schedules_in_the_past() -> None:
    s = Scheduler()
    s.run_until(50)
    times: list[int] = []
    s.at(10, lambda: times.append(s.now))
    s.run_until(60)
    assert times == [50]


def test_scheduler_run_until_stops_at_the_bound() -> None:
    s = Scheduler()
    seen: list[int] = []
    s.at(10, lambda: seen.append(10))
    s.at(11, lambda: seen.append(11))
    s.run_until(10)
    assert seen == [10]
    assert s.next_time() == 11


def test_timer_rearm_cancels_previous_firing() -> None:
    s = Scheduler()
    fired: list[int] = []
    t = Timer(s, lambda: fired.append(s.now))
    t.arm(10)
    t.arm(30)
    s.run_until(100)
    assert fired == [30]
    t.arm(150)
    t.cancel()
    s.run_until(200)
    assert fired == [30]
    assert t.due is None

from __future__ import annotations

import time

import pytest

from app.clocks.live import LiveClock
from app.clocks.sim import SimClock
from app.ports.clock import Clock


class FakeTime:
    def __init__(self, wall_ns: int, mono_ns: int) -> None:
        self.wall = wall_ns
        self.mono = mono_ns

    def wall_ns(self) -> int:
        return self.wall

    def monotonic_ns(self) -> int:
        return self.mono

    def sleep(self, ns: int) -> None:
        self.wall += ns
        self.mono += ns


def test_live_clock_defaults_to_wall_time() -> None:
    clock: Clock = LiveClock()
    before = time.time_ns()
    now = clock.now_ns()
    after = time.time_ns()
    assert before <= now <= after


def test_live_clock_unscaled_follows_the_injected_wall_clock() -> None:
    fake = FakeTime(wall_ns=5_000, mono_ns=0)
    clock = LiveClock(wall_ns=fake.wall_ns, monotonic_ns=fake.monotonic_ns)
    fake.wall = 9_000
    assert clock.now_ns() == 9_000


def test_live_clock_scaled_from_a_start() -> None:
    fake = FakeTime(wall_ns=10**18, mono_ns=777)
    start = 1_780_000_000 * 10**9
    clock = LiveClock(start, 30.0, wall_ns=fake.wall_ns, monotonic_ns=fake.monotonic_ns)
    assert clock.now_ns() == start
    fake.sleep(1_000_000_000)
    assert clock.now_ns() == start + 30 * 1_000_000_000
    fake.wall -= 3_600 * 10**9  # a wall-clock step does not move it
    assert clock.now_ns() == start + 30 * 1_000_000_000


def test_live_clock_speed_without_start_anchors_at_wall_time() -> None:
    fake = FakeTime(wall_ns=1_000_000, mono_ns=0)
    clock = LiveClock(speed=2.0, wall_ns=fake.wall_ns, monotonic_ns=fake.monotonic_ns)
    fake.sleep(500)
    assert clock.now_ns() == 1_000_000 + 1_000


def test_live_clock_scaled_on_the_real_monotonic_clock() -> None:
    before = time.monotonic_ns()
    clock = LiveClock(0, 1000.0)
    constructed = time.monotonic_ns()
    readings = [clock.now_ns() for _ in range(1000)]
    assert readings == sorted(readings)
    read_from = time.monotonic_ns()
    now = clock.now_ns()
    read_to = time.monotonic_ns()
    assert (read_from - constructed) * 1000 <= now <= (read_to - before) * 1000


@pytest.mark.parametrize("speed", [0.0, -1.0, float("nan"), float("inf")])
def test_live_clock_rejects_bad_speed(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        LiveClock(0, speed)


def test_sim_clock_advances_and_never_goes_back() -> None:
    clock: Clock = SimClock(100)
    assert clock.now_ns() == 100
    sim = SimClock(100)
    sim.advance_to(150)
    sim.advance_to(150)
    sim.advance_by(50)
    assert sim.now_ns() == 200
    with pytest.raises(ValueError, match="backwards"):
        sim.advance_to(199)
    with pytest.raises(ValueError, match="backwards"):
        sim.advance_by(-1)
    assert sim.now_ns() == 200


def test_anchored_clocks_in_two_processes_agree() -> None:
    wall = [1_000_000_000]
    first = LiveClock(5_000, speed=30.0, anchor_wall_ns=1_000_000_000, wall_ns=lambda: wall[0])
    wall[0] += 2_000_000_000
    second = LiveClock(5_000, speed=30.0, anchor_wall_ns=1_000_000_000, wall_ns=lambda: wall[0])
    assert first.now_ns() == second.now_ns() == 5_000 + 60_000_000_000

"""Wall and CPU seconds of the steps of one keyword-index update, so a benchmark can say where an
update's time goes (benchmarks/scale.py prints them) without a profiler in the search process.

    >>> clock = StepClock()
    >>> with clock("sqlite insert"):
    ...     store.insert(records, stems)
    >>> clock.steps   # (("sqlite insert", wall s, this thread's CPU s),)
"""
from __future__ import annotations

import time
from contextlib import contextmanager


class StepClock:
    """Collects (step, wall seconds, this thread's CPU seconds) in the order the steps ran."""

    def __init__(self) -> None:
        self._steps: list[tuple[str, float, float]] = []

    @contextmanager
    def __call__(self, name: str):
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self._steps.append((name, round(time.perf_counter() - wall, 4), round(time.thread_time() - cpu, 4)))

    @property
    def steps(self) -> tuple[tuple[str, float, float], ...]:
        """The steps timed so far."""
        return tuple(self._steps)

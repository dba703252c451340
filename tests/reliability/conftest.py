"""Shared helpers for the reliability suite: PostgreSQL-only marks and a start-together race runner."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection, connections

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: real concurrent connections and row locks (SQLite serialises on the file)",
)


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None
    done: bool = field(default=False)


def race(*calls: Callable[[], Any], jitter: float = 0.0, timeout: float = 30) -> list[Outcome]:
    """Run each call in its own thread (own database connection), released together by a barrier.

    `jitter` (seconds): each racer then waits a random moment up to it, so that over many
    rounds either side gets to the lock first. Returns one Outcome per call, in order: its
    return value or the exception it raised.
    """
    start = threading.Barrier(len(calls))
    outcomes = [Outcome() for _ in calls]

    def run(call: Callable[[], Any], outcome: Outcome) -> None:
        try:
            start.wait(timeout=timeout)
            if jitter:
                time.sleep(random.uniform(0, jitter))  # scheduling noise, not security
            outcome.value = call()
        except BaseException as exc:  # the test inspects it
            outcome.error = exc
        finally:
            outcome.done = True
            connections.close_all()

    threads = [threading.Thread(target=run, args=(c, o)) for c, o in zip(calls, outcomes, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert all(o.done for o in outcomes), "a racer did not finish: a deadlock?"
    return outcomes

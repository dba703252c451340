"""The suite runs under pytest-xdist (`pytest -n auto`): every worker collects the same tests,
and the tests that start real processes share one worker (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

from tests.conftest import PROCESS_MODULES, ProcessesInOneWorker


def test_every_process_module_exists():
    assert all((settings.BASE_DIR / path).is_file() for path in PROCESS_MODULES), sorted(PROCESS_MODULES)


class _Worker:
    def __init__(self) -> None:
        self.sent: list[int] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.extend(indices)


def _scheduler(collection: list[str], workers: list[_Worker]) -> ProcessesInOneWorker:
    # Only the state _send_tests reads: xdist's own __init__ needs a whole session.
    scheduler = object.__new__(ProcessesInOneWorker)
    scheduler.collection = collection
    scheduler.pending = list(range(len(collection)))
    scheduler.node2pending = {worker: [] for worker in workers}
    return scheduler


def test_every_process_test_goes_to_the_first_worker_first_and_the_rest_is_shared():
    process = sorted(PROCESS_MODULES)[0]
    collection = [f"tests/a/test_a.py::test_{n}" for n in range(4)] + [f"{process}::test_p{n}" for n in range(3)]
    first, second = _Worker(), _Worker()
    scheduler = _scheduler(collection, [first, second])

    scheduler._send_tests(second, 10)
    scheduler._send_tests(first, 5)

    assert second.sent == [0, 1, 2, 3]  # never a process test, even when asking for more
    assert first.sent == [4, 5, 6]  # the process tests, before anything else
    assert scheduler.pending == []
    assert scheduler.node2pending == {first: [4, 5, 6], second: [0, 1, 2, 3]}


def test_the_first_worker_takes_the_others_too_once_the_process_tests_are_out():
    process = sorted(PROCESS_MODULES)[0]
    collection = [f"{process}::test_p", "tests/a/test_a.py::test_0", "tests/a/test_a.py::test_1"]
    first, second = _Worker(), _Worker()
    scheduler = _scheduler(collection, [first, second])

    scheduler._send_tests(first, 2)
    scheduler._send_tests(second, 2)

    assert (first.sent, second.sent, scheduler.pending) == ([0, 1], [2], [])


def _collect(seed: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONHASHSEED"] = seed
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _collected(process: subprocess.Popen) -> list[str]:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, out[-3000:] + err[-3000:]
    return [line for line in out.splitlines() if "::" in line]


def test_two_collections_with_different_hash_seeds_find_the_same_tests_in_the_same_order():
    """What xdist requires of its workers: no uuid4(), time or set order in a test id."""
    runs = [_collect("1"), _collect("2")]  # side by side: each takes seconds
    first, second = (_collected(run) for run in runs)

    assert len(first) > 1000
    assert first == second, sorted(set(first) ^ set(second))[:20]

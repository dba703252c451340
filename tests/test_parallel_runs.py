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


def test_the_process_modules_are_one_group_and_every_other_test_its_own():
    scheduler = object.__new__(ProcessesInOneWorker)  # _split_scope reads nothing of the instance

    grouped = {scheduler._split_scope(f"{path}::test_x[1]") for path in PROCESS_MODULES}
    other = "tests/identifications/test_page.py::test_it_refuses_a_tampered_link"

    assert grouped == {"processes"}
    assert scheduler._split_scope(other) == other


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

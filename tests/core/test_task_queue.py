"""Queueing a task by name: the first lookups of a web process discover the tasks once, even
when a threaded worker's first requests arrive together."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from apps.core import task_queue


class _Task:
    def apply_async(self, **options: object) -> str:
        return "queued"


def test_concurrent_first_enqueues_discover_the_tasks_once(monkeypatch):
    registry: dict[str, _Task] = {}
    discoveries = []

    def discover(force: bool) -> None:
        discoveries.append(force)
        time.sleep(0.05)  # importing the tasks modules takes a while
        registry["apps.example.tasks.run"] = _Task()

    monkeypatch.setattr(task_queue, "current_app", SimpleNamespace(tasks=registry, autodiscover_tasks=discover))

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _n: task_queue.enqueue("apps.example.tasks.run"), range(4)))

    assert results == ["queued"] * 4
    assert discoveries == [True]

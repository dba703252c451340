"""apps.core: the mechanisms every app shares, each written once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.core.cache import cache
from django.db import transaction

from apps.core.counters import window_hit
from apps.core.exact_cache import TOMBSTONE, ExactCache
from apps.core.signed_links import signed_link_token, signed_link_valid
from apps.core.task_queue import enqueue
from apps.core.token_hashes import token_hash, token_matches

ROOT = Path(__file__).resolve().parents[2]


def test_a_signed_link_opens_its_object_under_its_salt_only():
    token = signed_link_token("0b3e6f5c-9f0d-4a35-9a43-3a1d2b6a9c11", salt="apps.a.links")

    assert signed_link_valid("0b3e6f5c-9f0d-4a35-9a43-3a1d2b6a9c11", token, salt="apps.a.links")
    assert not signed_link_valid("0b3e6f5c-9f0d-4a35-9a43-3a1d2b6a9c12", token, salt="apps.a.links")
    assert not signed_link_valid("0b3e6f5c-9f0d-4a35-9a43-3a1d2b6a9c11", token, salt="apps.b.links")
    assert not signed_link_valid("0b3e6f5c-9f0d-4a35-9a43-3a1d2b6a9c11", token + "x", salt="apps.a.links")


def test_a_token_matches_its_stored_hash_only():
    stored = token_hash("s3cret")

    assert (
        stored == "1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0"
    )  # hex SHA-256, as stored in ApiKey.hashed_secret and TransferSession.token_hash
    assert token_matches("s3cret", stored)
    assert not token_matches("s3cret ", stored)
    assert not token_matches("", stored)
    assert not token_matches(None, stored)


def test_a_counter_window_starts_at_its_first_hit_and_later_hits_do_not_extend_it():
    with time_machine.travel(1_800_000_000, tick=False) as traveller:
        assert window_hit(cache, "failures", 60) == 1
        traveller.shift(50)
        assert window_hit(cache, "failures", 60) == 2
        traveller.shift(11)  # 61 s after the first hit: the window is over
        assert window_hit(cache, "failures", 60) == 1


@pytest.mark.django_db(transaction=True)
def test_an_exact_cache_drops_an_entry_in_the_transaction_and_writes_it_on_commit():
    entries = ExactCache("tests:exact", 60)
    entries.remember("a", "old")
    with transaction.atomic():
        entries.changed(["a"], lambda: {"a": "new"})
        assert entries.get("a") is None  # readers miss, and read the database, until the commit
        entries.remember("a", "read before the commit")
        cache.delete(entries.key("a"))  # ... whose entry the commit then replaces
    assert entries.get("a") == "new"
    entries.remember("a", "stale")
    assert entries.get("a") == "new"  # a reader never overwrites


@pytest.mark.django_db(transaction=True)
def test_an_exact_cache_tombstone_keeps_a_stale_reader_out():
    entries = ExactCache("tests:exact", 60)
    with transaction.atomic():
        entries.changed(["k1", "k2"], lambda: {"k1": TOMBSTONE, "k2": "kept"})
    entries.remember("k1", "the row as read before it was revoked")

    assert entries.get("k1") == TOMBSTONE
    assert entries.get("k2") == "kept"


@pytest.mark.django_db
def test_a_task_queued_by_name_runs_at_once_in_eager_mode():
    result = enqueue("apps.api.tasks.purge_idempotency_records")

    assert result.successful()
    assert result.get() == 0


def test_a_process_that_never_imported_the_tasks_modules_queues_a_task_by_name():
    """A web process imports no tasks module (a worker does at start): the name still resolves."""
    script = """
import sys
from unittest import mock
import django
django.setup()
from celery import current_app
from celery.app.task import Task
from apps.core.task_queue import enqueue
name = "apps.transfers.tasks.expire_session"
assert name not in current_app.tasks and "apps.transfers.tasks" not in sys.modules
with mock.patch.object(Task, "apply_async", autospec=True) as apply_async:
    enqueue(name, args=["x"], countdown=5)
task, = apply_async.call_args.args
assert task.name == name, task.name
assert apply_async.call_args.kwargs == {"args": ["x"], "kwargs": None, "countdown": 5}
print("queued")
"""
    completed = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.stdout.strip() == "queued", completed.stderr

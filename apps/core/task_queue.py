"""Queue a Celery task by its registered name, so that a service never imports its app's tasks
module (which imports the services: a cycle).

The task is looked up in the app's registry and queued with `apply_async`, which honours
CELERY_TASK_ALWAYS_EAGER (tests run it at once, as before); `send_task` would not. A web process
has not imported the apps' tasks modules (a worker imports them at start): the first lookup of
a name it does not know lets Celery's autodiscovery import them, as a worker does.

Each task's explicit name is the module path it always had, so messages already queued and
the beat schedule keep meaning the same task.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from celery import current_app
from celery.result import AsyncResult

# One discovery at a time: a gthread worker's first requests arrive together, and a thread that
# looked while another was still importing the tasks modules found the name missing.
_discovery = threading.Lock()


def enqueue(
    name: str, *, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None, **options: Any
) -> AsyncResult:
    """Queue the task registered as `name` (its `@shared_task(name=...)`) with `args`/`kwargs`;
    `options` are apply_async's (countdown, eta, ...). Raises what the broker raises."""
    if name not in current_app.tasks:
        with _discovery:
            if name not in current_app.tasks:
                # Imports every installed app's tasks module, as a worker does at start (without
                # the worker's start-up signal, which would also run Django's system checks).
                current_app.autodiscover_tasks(force=True)
    return current_app.tasks[name].apply_async(args=args, kwargs=kwargs, **options)

"""`make run`'s broker (kombu's filesystem transport) keeps every file it writes under var/.

kombu's default control folder is `control/` in the working directory: started from the
repository, `make run` wrote `control/celery.exchange` at its top level.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

from django.conf import settings

PROBE = """
import json, sys
import django
django.setup()
from django.conf import settings
from kombu import Exchange, Queue
from config.celery import app

name = sys.argv[1]
with app.connection_for_write() as connection:
    # Binding a queue is what a worker does at start and a producer at its first send.
    Queue(name, Exchange(name, type="direct"), routing_key=name)(connection.default_channel).declare()
print(json.dumps({
    "broker": settings.CELERY_BROKER_URL,
    "options": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "var": str(settings.VAR_DIR),
}))
"""


def test_the_filesystem_broker_writes_its_exchange_table_under_var_whatever_the_working_directory(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_", "CELERY_"))}
    env.pop("REDIS_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PYTHONPATH=str(settings.BASE_DIR),
    )
    name = f"probe-{uuid.uuid4().hex[:12]}"
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-c", PROBE, name], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    control = settings.BASE_DIR / "var" / "celery-control"
    exchange = control / f"{name}.exchange"
    try:
        assert seen["broker"] == "filesystem://"
        assert seen["options"]["control_folder"] == str(control)
        assert exchange.exists()
        assert not (tmp_path / "control").exists()  # kombu's default, relative to the working directory
    finally:
        exchange.unlink(missing_ok=True)

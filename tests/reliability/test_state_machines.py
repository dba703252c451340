"""State machines stay usable from many threads at once (a threaded server, a worker pool)."""

from __future__ import annotations

import django_fsm
import pytest
from django.apps import apps

from apps.audit.fsm import FSMModelMixin
from apps.identities.models import ExternalPersonalIdentity
from tests.factories import make_identity
from tests.reliability.conftest import postgres_only, race


def _state_machines() -> list[type]:
    return [
        model
        for model in apps.get_models()
        if any(isinstance(f, django_fsm.FSMFieldMixin) for f in model._meta.concrete_fields)
    ]


def test_every_state_machine_uses_the_thread_safe_mixin():
    machines = _state_machines()

    assert len(machines) >= 5
    assert [m._meta.label for m in machines if not issubclass(m, FSMModelMixin)] == []


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_many_threads_refresh_state_machines_at_once(org):
    """django-fsm's own refresh_from_db toggles protection on the shared field; interleaved
    refreshes then fail with "Direct status modification is not allowed"."""
    identity = make_identity(org, email="tess.threads@example.com", first_name="Tess", last_name="Threads")

    def refresh_many() -> int:
        mine = ExternalPersonalIdentity.objects.get(pk=identity.pk)
        for _ in range(40):
            mine.refresh_from_db()
            mine.refresh_from_db(fields=["state"])
        return 1

    outcomes = race(*([refresh_many] * 8))

    assert [o.error for o in outcomes] == [None] * 8
    # Protection still holds afterwards.
    with pytest.raises(AttributeError, match="Direct state modification"):
        identity.state = "ACTIVE"

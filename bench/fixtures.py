"""Data for the HTTP benchmarks, made through the services as integrators would make it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.db import connection


def build(*, sessions: int = 400, activities: int = 150, processes: int = 150) -> dict[str, Any]:
    from apps.activities.services import activity_create
    from apps.audit.services import Actor
    from apps.identities.services import identity_activate, identity_create
    from apps.organizations.services import api_key_create, organization_create
    from apps.people.services import person_create, person_set_details
    from apps.transfers.services import session_create
    from apps.verifications.services import process_create
    from bench.baseline_views import TABLE_SQL

    actor = Actor.system("benchmark")
    org = organization_create(slug="bench", name="Bench Org")
    _, api_key = api_key_create(organization=org)

    def party(email: str, first: str) -> Any:
        identity = identity_create(
            organization=org, email_address=email, first_name=first, last_name="Bench", managed=True, actor=actor
        )
        person = person_create(email=email, password=None, details={})
        person_set_details(person=person, details={"first_name": first, "last_name": "Bench", "email": email})
        return identity_activate(identity=identity, person=person)

    initiator = party("initiator@bench.example", "Ana")
    receptor = party("receptor@bench.example", "Eva")
    requirements = [{"detail": "first_name", "required": True}, {"detail": "email", "required": False}]
    activity_ids = [
        str(
            activity_create(
                organization=org,
                type="AT_001",
                initiator_id=initiator.pk,
                receptor_id=receptor.pk,
                requirements=requirements,
                purpose="Open an account",
                actor=actor,
            ).pk
        )
        for _ in range(activities)
    ]
    process_ids = [
        str(process_create(organization=org, provider="onfido", process_type="documentSelfie", actor=actor).pk)
        for _ in range(processes)
    ]
    status = []
    for _ in range(sessions):
        session, token = session_create(
            organization=org, scopes=["first_name", "email"], expires_in=timedelta(hours=1), actor=actor
        )
        status.append((str(session.pk), token))
    with connection.cursor() as cursor:
        cursor.execute(TABLE_SQL)
        cursor.execute(
            "INSERT INTO bench_row (name, payload) SELECT 'row ' || n, jsonb_build_object('n', n)"
            " FROM generate_series(1, 10000) n"
        )
        cursor.execute("ANALYZE bench_row")
    return {
        "org": org.slug,
        "api_key": api_key,
        "initiator": str(initiator.pk),
        "receptor": str(receptor.pk),
        "requirements": requirements,
        "activities": activity_ids,
        "processes": process_ids,
        "sessions": status,
        "rows": list(range(1, 10001, 7)),
    }


def activity_body(fx: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "type": "AT_001",
            "initiator_id": fx["initiator"],
            "receptor_id": fx["receptor"],
            "requirements": fx["requirements"],
            "purpose": "Open an account",
        }
    ).encode()


def session_body() -> bytes:
    return json.dumps({"scopes": ["first_name", "email"], "expires_in": "PT10M"}).encode()

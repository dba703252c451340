"""Data protection (issue 10, item 6): no personal value in clear at rest, in logs or in error
reports; purged data is gone from the tables.

A small world is built through the API and the services, with personal values that appear
nowhere else (so any hit is a leak), then the database is read table by table — and, on
PostgreSQL, dumped with pg_dump — and every log record and error report is searched.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client, override_settings
from django.urls import path
from django.utils import timezone
from rest_framework.test import APIClient

from apps.activities.models import Activity, SharedSnapshot
from apps.activities.services import activities_expire_overdue
from apps.core import crypto
from apps.identities.models import ExternalPersonalIdentity
from apps.identities.services import identity_activate
from apps.organizations.models import Scope
from apps.people.management.commands.rotate_encryption_keys import encrypted_models
from apps.people.services import person_set_details
from apps.portal.services import person_delete
from apps.transfers.models import TransferSession
from apps.transfers.services import sessions_purge_data
from tests.factories import make_api_key, make_person
from tests.identifications.conftest import step_path

# Distinctive values: none of them can occur in a table, a log line or a report by chance.
ZOE = {
    "first_name": "Zephyrinqa",
    "last_name": "Quillfeathrix",
    "email": "zephyrinqa.quill@example.org",
    "phone": "+34611987653",
    "date_of_birth": "1931-07-17",
    "place_of_birth": "Villanueva de Xquerta",
    "address": "Calle Imaginaria 4217, Xquerta",
    "document_number": "QZX7734KW",
    "personal_identification_number": "PIN-55501234-XQ",
}
BART = {
    "first_name": "Bartholomyx",
    "last_name": "Featherstonvaugh",
    "email": "bart.featherstonvaugh@example.org",
    "date_of_birth": "1929-02-28",
}
OLGA = {
    "name": "Olgarethqa",
    "surname": "Vintersnowq",
    "email": "olgarethqa.vinter@example.org",
    "phone": "+34622876549",
    "document_number": "DOCVX998877",
}
PASSWORD = "Sup3r-secret-passphrase"
SECRETS = sorted({*ZOE.values(), *BART.values(), *OLGA.values(), PASSWORD})


def _leaks(text: str) -> list[str]:
    low = text.lower()
    return [value for value in SECRETS if value.lower() in low]


def _party(api, values: dict[str, str], idempotency_key: str) -> ExternalPersonalIdentity:
    """An identity created through the API (with an Idempotency-Key, so its response is
    recorded), made ACTIVE by a person holding `values`."""
    response = api.post(
        "/api/v1/orgs/acme/external-personal-identities",
        {
            "emailAddress": values["email"],
            "firstName": values["first_name"],
            "lastName": values["last_name"],
            "managed": True,
        },
        format="json",
        headers={"Idempotency-Key": idempotency_key},
    )
    assert response.status_code == 201, response.json()
    person = make_person(values["email"], password=PASSWORD)
    person_set_details(person=person, details=values)
    identity = ExternalPersonalIdentity.objects.get(pk=response.json()["id"])
    return identity_activate(identity=identity, person=person)


@pytest.fixture
def world(org, api):
    return build_world(api)


def build_world(api) -> dict:
    """Everything that holds personal data, created the way integrators and people do."""
    zoe, bart = _party(api, ZOE, "idem-zoe"), _party(api, BART, "idem-bart")
    base = "/api/v1/orgs/acme/activities"
    # A request Bart accepts (snapshot + receipts), and a share from Zoe to Bart.
    created = api.post(
        base,
        {
            "type": "AT_001",
            "initiator_id": str(bart.pk),
            "receptor_id": str(zoe.pk),
            "requirements": [{"detail": d, "required": True} for d in ("first_name", "address", "document_number")],
            "purpose": "Open an account",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    accepted = api.post(
        f"{base}/{created.json()['id']}/accept",
        {"sharing_period": "P30D"},
        format="json",
        headers={"Idempotency-Key": "idem-accept"},
    )
    assert accepted.status_code == 200, accepted.json()
    shared = api.post(
        base,
        {
            "type": "AT_002",
            "initiator_id": str(zoe.pk),
            "receptor_id": str(bart.pk),
            "offered_details": ["phone", "date_of_birth", "place_of_birth", "personal_identification_number"],
            "sharing_period": "P1D",
        },
        format="json",
    )
    assert shared.status_code == 201, shared.json()
    # Bart's side reads what Zoe gave (a read that decrypts).
    assert api.get(f"{base}/{created.json()['id']}/details?as=initiator").status_code == 200

    # A data-transfer session Zoe confirms on her phone.
    session = api.post(
        "/api/v1/orgs/acme/sessions",
        {"scopes": ["first_name", "last_name", "email", "phone", "address"]},
        format="json",
    ).json()
    phone = Client(enforce_csrf_checks=True)
    assert (
        Client().post("/accounts/login/", {"username": ZOE["email"], "password": "Wrong-passphrase"}).status_code == 200
    )
    assert Client().post("/accounts/login/", {"username": ZOE["email"], "password": PASSWORD}).status_code == 302
    phone.force_login(zoe.person)
    phone.get("/me/")
    assert phone.get(f"/api/v1/session/{session['session_id']}/information").status_code == 200
    answer = phone.post(
        f"/api/v1/session/{session['session_id']}/update",
        {"decision": "confirmed", "accepted_scopes": ["first_name", "last_name", "email", "phone", "address"]},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=phone.cookies["csrftoken"].value,
    )
    assert answer.status_code == 200, answer.content
    status = Client().get(
        f"/api/v1/session/{session['session_id']}/status", HTTP_X_SESSION_TOKEN=session["session_token"]
    )
    assert status.status_code == 200

    # An OTP identification of Olga, by SMS, with her document number as second factor.
    ident = api.post(
        "/api/v1/orgs/acme/identifications/otp",
        {
            "actor": OLGA,
            "expires_in": "P1D",
            "two_factor_type": "DOCUMENT_NUMBER",
            "channel": {"type": "SMS"},
        },
        format="json",
        headers={"Idempotency-Key": "idem-olga"},
    )
    assert ident.status_code == 201, ident.json()
    page = Client()
    path = ident.json()["url"].replace("http://testserver", "")
    page.get(path)
    assert page.post(step_path(path, "send"), {"send": "1"}).status_code == 302
    return {
        "zoe": zoe,
        "bart": bart,
        "request_id": created.json()["id"],
        "share_id": shared.json()["id"],
        "session_id": session["session_id"],
        "identification_id": ident.json()["id"],
    }


def _table_text() -> dict[str, str]:
    """Every row of every table, as text, by table."""
    texts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from the schema
            texts[table] = "\n".join(" | ".join(str(v) for v in row) for row in cursor.fetchall())
    return texts


# --- At rest ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_personal_value_is_stored_in_clear_in_any_table(world):
    texts = _table_text()

    leaks = {table: _leaks(text) for table, text in texts.items() if _leaks(text)}
    assert leaks == {}
    # The world is really there (and encrypted), not an empty database passing by default.
    assert SharedSnapshot.objects.count() >= 2
    assert TransferSession.objects.get(pk=world["session_id"]).data["address"] == ZOE["address"]
    assert "gAAAA" in texts["people_user"] and "gAAAA" in texts["transfers_transfersession"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump dumps PostgreSQL databases only")
@pytest.mark.django_db(transaction=True)
def test_no_personal_value_is_in_a_pg_dump_of_the_database(world, tmp_path):
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump is not installed")
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    command = [pg_dump, "--data-only", "--no-owner", "--dbname", db["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            command += [flag, str(db[key])]
    dump = subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=120).stdout  # noqa: S603

    assert "people_user" in dump and "gAAAA" in dump
    assert _leaks(dump) == []


# --- Logs and error reports ----------------------------------------------------------------------


@pytest.mark.django_db
def test_no_personal_value_is_logged_even_at_debug(org, api, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connection.force_debug_cursor = True  # every SQL statement and its parameters, logged
    try:
        world = build_world(api)
    finally:
        connection.force_debug_cursor = False

    logged = "\n".join(
        f"{r.getMessage()} {r.args!r} {getattr(r, 'params', '')} {r.exc_text or ''}" for r in caplog.records
    )
    assert any(r.name == "django.db.backends" for r in caplog.records)
    assert world["session_id"]
    assert _leaks(logged) == []


def _boom(request):
    """A page that fails after reading personal data from the form and the database."""
    from apps.people.models import User

    person = User.objects.get_by_natural_key(request.POST["email"])
    first_name = person.details.get(name="first_name").value  # noqa: F841 - a local the report could show
    raise RuntimeError("the page failed")


urlpatterns = [path("boom/", _boom)]


@pytest.mark.django_db
@override_settings(
    ROOT_URLCONF=__name__,
    ADMINS=[("Operations", "ops@example.com")],
    DEBUG=False,
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
)
def test_an_error_report_shows_no_personal_value(caplog):
    person = make_person(ZOE["email"], password=PASSWORD)
    person_set_details(person=person, details=ZOE)
    caplog.set_level(logging.DEBUG)
    mail.outbox.clear()
    client = Client(raise_request_exception=False)
    client.force_login(person)  # str(user) is the email address
    session_cookie = client.cookies["sessionid"].value

    response = client.post("/boom/", {"email": ZOE["email"], "first_name": ZOE["first_name"], "password": PASSWORD})

    assert response.status_code == 500
    reports = [m for m in mail.outbox if "ops@example.com" in m.to]
    assert reports, "the 500 was not reported to ADMINS"
    report = reports[0]
    text = report.body + "".join(str(content) for content, _ in getattr(report, "alternatives", []))
    assert "the page failed" in text  # the report is useful...
    assert f"user {person.pk}" in text
    assert _leaks(text) == []  # ...and holds no personal value,
    assert session_cookie not in text  # nor anyone's sign-in
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "the page failed" in logged
    assert _leaks(logged) == []


# --- Purged data is gone ---------------------------------------------------------------------------


def _db_id(value) -> str:
    """A UUID as the backend stores it (SQLite: 32 hex digits)."""
    text = str(value)
    return text.replace("-", "") if connection.vendor == "sqlite" else text


def _raw(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.mark.django_db
def test_an_expired_sharing_leaves_no_snapshot_in_the_table(world):
    share = Activity.objects.get(pk=world["share_id"])
    key = _db_id(share.pk)
    assert _raw('SELECT "values" FROM activities_sharedsnapshot WHERE activity_id = %s', [key])

    Activity.objects.filter(pk=share.pk).update(sharing_until=timezone.now() - timedelta(seconds=1))
    assert activities_expire_overdue() == 1

    assert _raw('SELECT "values" FROM activities_sharedsnapshot WHERE activity_id = %s', [key]) == []
    assert _leaks(_table_text()["activities_sharedsnapshot"]) == []


@pytest.mark.django_db
def test_a_purged_session_holds_null_in_the_table(world, settings):
    settings.SESSION_DATA_RETENTION_SECONDS = 0
    sid = world["session_id"]
    key = _db_id(sid)
    assert _raw("SELECT data FROM transfers_transfersession WHERE id = %s", [key])[0][0].startswith("gAAAA")

    assert sessions_purge_data() >= 1

    data, purged_at = _raw("SELECT data, data_purged_at FROM transfers_transfersession WHERE id = %s", [key])[0]
    assert data is None and purged_at is not None


@pytest.mark.django_db
def test_a_deleted_identification_leaves_no_row_and_no_message(world, org):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(org, scopes=[s.value for s in Scope])}")
    ident_id = world["identification_id"]
    key = _db_id(ident_id)
    assert _raw("SELECT count(*) FROM identifications_otpmessage WHERE identification_id = %s", [key])[0][0] >= 1

    response = api.delete(f"/api/v1/orgs/acme/identifications/otp/{ident_id}?force=true")
    assert response.status_code == 204, response.content

    assert _raw("SELECT count(*) FROM identifications_otpidentification WHERE id = %s", [key])[0][0] == 0
    assert _raw("SELECT count(*) FROM identifications_otpmessage WHERE identification_id = %s", [key])[0][0] == 0
    # The audit trail keeps the deletion, with ids and states only.
    assert _leaks(_table_text()["audit_transition"]) == []


def _decrypted_everything() -> str:
    """Every encrypted value in the database, decrypted, straight from the tables."""
    values = []
    with connection.cursor() as cursor:
        for model, fields in encrypted_models():
            columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
            cursor.execute(f"SELECT {columns} FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
            values += [crypto.decrypt(v) for row in cursor.fetchall() for v in row if v]
    return "\n".join(values)


@pytest.mark.django_db
def test_a_deleted_account_leaves_none_of_the_persons_details_even_encrypted(world):
    person = world["zoe"].person
    # Values only Zoe's account and what she shared hold (the organization keeps its own
    # identity record of her name and email).
    hers = [ZOE[k] for k in ("phone", "date_of_birth", "place_of_birth", "address", "document_number")]
    hers.append(ZOE["personal_identification_number"])
    assert all(v in _decrypted_everything() for v in hers)

    person_delete(person=person)

    assert _raw("SELECT count(*) FROM people_user WHERE id = %s", [person.pk])[0][0] == 0
    assert _raw("SELECT count(*) FROM people_personaldetail WHERE person_id = %s", [person.pk])[0][0] == 0
    assert _raw("SELECT data FROM transfers_transfersession WHERE id = %s", [_db_id(world["session_id"])])[0][0] is None
    for activity_id in (world["request_id"], world["share_id"]):
        assert _raw("SELECT count(*) FROM activities_sharedsnapshot WHERE activity_id = %s", [_db_id(activity_id)]) == [
            (0,)
        ]
    left = _decrypted_everything()
    assert [v for v in hers if v in left] == []

"""Issue 15's API-edge attacks, run by tests/security/test_api_edges_production.py in a fresh
interpreter under config.settings.production (on the suite's PostgreSQL database), as an
outsider, an organization's integrator and a person of another organization would try them.

Everything happens in one transaction that is rolled back, so the database is left as found
(messages go to the SMS files of the environment's SMS_FILE_PATH). The last line of stdout is a
JSON object: what each attack got.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from apps.activities.models import Activity, SharedSnapshot  # noqa: E402
from apps.identifications.models import OtpMessage  # noqa: E402
from apps.identities.services import identity_activate  # noqa: E402
from apps.people.services import person_set_details  # noqa: E402
from apps.verifications.models import VerificationProcess  # noqa: E402
from apps.webhooks.models import WebhookEndpoint  # noqa: E402
from tests.factories import OrganizationFactory, make_api_key, make_identity, make_person  # noqa: E402
from tests.security.probes import run_attacks  # noqa: E402
from tests.security.test_request_limits import UnreadableInput  # noqa: E402

HTTPS = {"HTTP_X_FORWARDED_PROTO": "https"}
IPV6_FORMS = ("::127.0.0.1", "::ffff:0:7f00:1", "64:ff9b:1::a00:1")


def api(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}", REMOTE_ADDR="192.0.2.1", **HTTPS)


def post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json")


def codes(response: Any) -> list[str]:
    return [error.get("code", "") for error in response.json().get("errors", [])]


def party(organization: Any, login: str, /, *, managed: bool, **details: str) -> Any:
    identity = make_identity(organization, email=login, managed=managed)
    person = make_person(login)
    person_set_details(person=person, details=details)
    return identity_activate(identity=identity, person=person)


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def attacks() -> dict[str, Any]:
    seen: dict[str, Any] = {"settings": {"DEBUG": settings.DEBUG, "SANDBOX_ENABLED": settings.SANDBOX_ENABLED}}
    acme = OrganizationFactory(slug="probe-acme", name="Probe Acme")
    globex = OrganizationFactory(slug="probe-globex", name="Probe Globex")
    integrator = api(make_api_key(acme))
    other_org = api(make_api_key(globex))
    outsider = Client(REMOTE_ADDR="198.51.100.7", **HTTPS)
    base = f"/api/v1/orgs/{acme.slug}"

    # Consent before sharing: a share or swap in a non-managed person's name.
    noor = party(acme, "probe-noor@example.com", managed=False, first_name="Noor", email="probe-noor@example.com")
    eva = party(acme, "probe-eva@example.com", managed=True, first_name="Eva")
    share = {
        "type": "AT_002",
        "initiator_id": str(noor.pk),
        "receptor_id": str(eva.pk),
        "purpose": "Open an account",
        "offered_details": ["first_name", "email"],
        "sharing_period": "P30D",
    }
    swap = {key: value for key, value in share.items() if key != "sharing_period"} | {
        "type": "AT_003",
        "requirements": [{"detail": "first_name", "required": True}],
    }
    answers = [post(integrator, f"{base}/activities", body) for body in (share, swap)]
    seen["consent"] = {
        "integrator": [(a.status_code, codes(a)) for a in answers],
        "other_org": post(other_org, f"{base}/activities", share).status_code,
        "outsider": post(outsider, f"{base}/activities", share).status_code,
        "activities": Activity.objects.filter(organization=acme).count(),
        "snapshots": SharedSnapshot.objects.count(),
    }

    # The sandbox does not exist in production.
    sandbox = post(integrator, f"{base}/processes", {"provider": "sandbox"})
    connect = post(integrator, f"{base}/processes", {"provider": "connect"})
    seen["providers"] = {
        "sandbox": sandbox.status_code,
        "connect": connect.status_code,
        "processes": VerificationProcess.objects.filter(organization=acme).count(),
    }

    # Link messages: 25 resends to one phone.
    phone = "+34600" + str(os.getpid() % 1000000).zfill(6)
    created = post(
        integrator,
        f"{base}/identifications/otp",
        {
            "actor": {
                "name": "Ana",
                "surname": "Probe",
                "email": "probe-otp@example.com",
                "phone": phone,
                "document_number": "12345678Z",
            },
            "expires_in": "P1D",
            "two_factor_type": "DOCUMENT_NUMBER",
            "channel": {"type": "SMS"},
        },
    )
    resend = f"{base}/identifications/otp/{created.json().get('id')}/resend"
    resends = [integrator.post(resend) for _ in range(25)]
    sms_dir = Path(os.environ["SMS_FILE_PATH"])
    seen["messages"] = {
        "created": created.status_code,
        "resends": sorted({r.status_code for r in resends}),
        "first_two": [r.status_code for r in resends[:2]],
        "retry_after": all(r.has_header("Retry-After") for r in resends[2:]),
        "messages": OtpMessage.objects.filter(identification__organization=acme).count(),
        "sms_files": sum(1 for p in sms_dir.rglob("*") if p.is_file()) if sms_dir.exists() else 0,
        "other_org_resend": other_org.post(resend).status_code,
    }

    # A 5,000-deep JSON body, on a create and on an answer.
    seen["json_depth"] = {
        "activities": integrator.post(f"{base}/activities", deep(5000), content_type="application/json").status_code,
        "webhooks": integrator.post(f"{base}/webhooks", deep(5000), content_type="application/json").status_code,
    }

    # Webhook destinations that embed private IPv4 addresses in IPv6.
    seen["ipv6"] = {
        "statuses": [
            post(
                integrator, f"{base}/webhooks", {"url": f"http://[{a}]:8080/hook", "events": ["webhook.ping"]}
            ).status_code
            for a in IPV6_FORMS
        ],
        "endpoints": WebhookEndpoint.objects.filter(organization=acme).count(),
    }

    # An 80 MB multipart body to the sign-in page, and an API body over the cap.
    seen["bodies"] = {
        "login": outsider.generic(
            "POST",
            "/accounts/login/",
            b"x",
            content_type="multipart/form-data; boundary=probe",
            CONTENT_LENGTH=str(80 * 1024 * 1024),
            **{"wsgi.input": UnreadableInput()},
        ).status_code,
        "api": integrator.generic(
            "POST",
            f"{base}/webhooks",
            b"x",
            content_type="application/json",
            CONTENT_LENGTH=str(4 * 1024 * 1024),
            **{"wsgi.input": UnreadableInput()},
        ).status_code,
    }
    return seen


if __name__ == "__main__":
    run_attacks(attacks)

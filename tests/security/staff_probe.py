"""The staff attacks of issue 15, run by tests/security/test_staff_boundaries_production.py in a
fresh interpreter under config.settings.production (on the suite's PostgreSQL database).

Everything happens in one transaction that is rolled back, so the database is left as found.
The last line of stdout is a JSON object: what each attack got.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import django

django.setup()

import time_machine  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.admin.models import LogEntry  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from apps.activities.models import ActivityType  # noqa: E402
from apps.activities.services import activity_accept, activity_create  # noqa: E402
from apps.audit.services import Actor  # noqa: E402
from apps.identities.services import identity_activate, identity_transition_by_staff  # noqa: E402
from apps.organizations.models import Membership  # noqa: E402
from apps.people.models import User  # noqa: E402
from apps.people.services import person_set_details  # noqa: E402
from tests.backoffice.conftest import make_staff  # noqa: E402
from tests.factories import OrganizationFactory, make_identity, make_person, totp_code  # noqa: E402
from tests.security.probes import run_attacks  # noqa: E402

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HTTPS = {"HTTP_X_FORWARDED_PROTO": "https"}
STAFF_PASSWORD = "staff-pass-123"
ROOT_PASSWORD = "root-pass-123"


def browser(address: str = "192.0.2.1") -> Client:
    return Client(REMOTE_ADDR=address, **HTTPS)


def sign_in(email: str, password: str, *, address: str = "192.0.2.1") -> Client:
    """The real way in: the admin's sign-in page, then a code from the account's authenticator."""
    client = browser(address)
    answer = client.post("/admin/login/", {"username": email, "password": password})
    assert answer["Location"].startswith("/admin/second-factor/"), answer
    user = User.objects.filter_by_email(email).get()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        client.get(answer["Location"])
        device = TOTPDevice.objects.get(user=user, confirmed=False)
    client.post(answer["Location"], {"otp_token": totp_code(device)})
    assert client.get("/admin/").status_code == 200
    return client


def share(organization: Any, giver: Any, person: User, detail: str) -> None:
    desk = identity_activate(
        identity=make_identity(organization, email=f"desk-{organization.slug}@example.com"),
        person=make_person(f"desk-{organization.slug}@example.com"),
    )
    activity = activity_create(
        organization=organization,
        type=ActivityType.REQUEST,
        initiator_id=desk.pk,
        receptor_id=giver.pk,
        requirements=[{"detail": detail, "required": True}],
        actor=Actor.system("probe"),
    )
    activity_accept(
        activity=activity, accepted_details=[detail], sharing_period=timedelta(days=30), actor=Actor.user(person)
    )


def attacks() -> dict[str, Any]:
    seen: dict[str, Any] = {
        "settings": {"DEBUG": settings.DEBUG, "DEMO_STAFF_TOTP_COMMAND": hasattr(settings, "DEMO_STAFF_TOTP_COMMAND")}
    }
    acme = OrganizationFactory(slug="probe-acme", name="Probe Acme")
    globex = OrganizationFactory(slug="probe-globex", name="Probe Globex")
    root = User.objects.create_superuser("probe-root@example.com", ROOT_PASSWORD)
    make_staff("probe-boss@example.com", "administrator", acme)
    make_staff("probe-viewer@example.com", "viewer", acme)
    ana = make_person("probe-ana@example.com")
    person_set_details(person=ana, details={"first_name": "Anabel", "last_name": "Quintero"})
    ours = identity_activate(identity=make_identity(acme, email="probe-ana@example.com"), person=ana)
    theirs = identity_activate(identity=make_identity(globex, email="probe-ana@example.com"), person=ana)
    share(globex, theirs, ana, "first_name")

    # Lockout first: the attacker's five wrong passwords from one address.
    attacker_address = browser("203.0.113.7")
    for _ in range(settings.LOGIN_MAX_ATTEMPTS):
        attacker_address.post("/admin/login/", {"username": root.email, "password": "guess"})
    locked = attacker_address.post("/admin/login/", {"username": root.email, "password": ROOT_PASSWORD})
    owner = browser("198.51.100.4").post("/admin/login/", {"username": root.email, "password": ROOT_PASSWORD})
    seen["lockout"] = {
        "attacker_locked": "Too many failed sign-in attempts" in locked.content.decode(),
        "owner_elsewhere": owner.status_code == 302 and owner["Location"].startswith("/admin/second-factor/"),
    }

    boss = sign_in("probe-boss@example.com", STAFF_PASSWORD)
    org_form = {"name": acme.name}
    for prefix in ("api_keys", "memberships"):
        org_form |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}

    boss.post(
        f"/admin/organizations/organization/{acme.pk}/change/",
        org_form | {"memberships-TOTAL_FORMS": "1", "memberships-0-user": str(root.pk)},
    )
    seen["membership"] = {
        "inline_member": Membership.objects.filter(user=root).exists(),
        "add_status": boss.post(
            "/admin/organizations/membership/add/", {"organization": str(acme.pk), "user": str(root.pk)}
        ).status_code,
        "autocomplete_status": boss.get(
            "/admin/autocomplete/",
            {"app_label": "organizations", "model_name": "membership", "field_name": "user", "term": "p"},
        ).status_code,
    }

    before = User.objects.get(pk=ana.pk)
    statuses = [
        boss.post(f"/admin/people/user/{ana.pk}/change/", {"email": "evil@example.com"}).status_code,
        boss.post(
            f"/admin/people/user/{ana.pk}/password/", {"password1": "Taken-1234", "password2": "Taken-1234"}
        ).status_code,
        boss.post("/admin/people/user/add/", {"email": "new@example.com", "password1": "Some-pass-123"}).status_code,
    ]
    after = User.objects.get(pk=ana.pk)
    seen["accounts"] = {
        "statuses": statuses,
        "unchanged": (before.email, before.password, before.is_active)
        == (after.email, after.password, after.is_active),
        "created": User.objects.filter_by_email("new@example.com").exists(),
    }

    identity_transition_by_staff(identity=ours, transition="deactivate", user=root)
    viewer = sign_in("probe-viewer@example.com", STAFF_PASSWORD)
    trail = [
        viewer.get(f"/admin/identities/externalpersonalidentity/{ours.pk}/change/").content.decode(),
        viewer.get("/admin/audit/transition/").content.decode(),
    ]
    accounts = {str(pk) for pk in User.objects.values_list("pk", flat=True)}
    seen["audit"] = {
        "account_ids": sorted({m for page in trail for m in UUID.findall(page)} & accounts),
        "superuser_email": any(root.email in page for page in trail),
    }

    identity_page = boss.get(f"/admin/identities/externalpersonalidentity/{ours.pk}/change/").content.decode()
    seen["values"] = {
        "other_orgs_value": "Anabel" in identity_page,
        "detail_names": "First name" in identity_page and "Last name" in identity_page,
    }

    identities = "/admin/identities/externalpersonalidentity/"
    seen["filters"] = {
        "through_person": boss.get(identities, {"person__identities__organization__slug": globex.slug}).status_code,
        "other_org_id": boss.get(identities, {"organization__id__exact": str(globex.pk)}).status_code,
        "people_list": boss.get(
            "/admin/people/user/", {"identities__organization__id__exact": str(globex.pk)}
        ).status_code,
        "names_other_org": globex.name in boss.get(identities).content.decode(),
    }

    password_only = browser()
    password_only.post("/admin/login/", {"username": "probe-viewer@example.com", "password": STAFF_PASSWORD})
    seen["second_factor"] = {
        url: password_only.get(url)["Location"].split("?")[0]
        for url in ("/admin/", "/admin/dashboard/", "/admin/audit/transition/export-csv/", "/admin/autocomplete/")
    }

    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        idle = sign_in("probe-viewer@example.com", STAFF_PASSWORD, address="192.0.2.9")
        clock.shift(timedelta(minutes=31))
        idle_answer = idle.get("/admin/")
    with time_machine.travel(start + timedelta(hours=1), tick=False) as clock:
        busy = sign_in("probe-viewer@example.com", STAFF_PASSWORD, address="192.0.2.10")
        for _ in range(12 * 4 + 1):  # every 15 minutes, past 12 hours
            clock.shift(timedelta(minutes=15))
            last = busy.get("/admin/")
    seen["sessions"] = {
        "idle_31_min": idle_answer["Location"].split("?")[0]
        if idle_answer.status_code == 302
        else idle_answer.status_code,
        "after_12_hours": last["Location"].split("?")[0] if last.status_code == 302 else last.status_code,
    }

    log = repr(list(LogEntry.objects.values_list("object_repr", "change_message")))
    seen["admin_log"] = {"personal": [text for text in ("probe-", "Anabel", "Quintero") if text in log]}
    return seen


if __name__ == "__main__":
    run_attacks(attacks)

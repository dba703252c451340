"""`seed_demo` gives the demo organization one staff member per role, who can sign in to /admin/."""

from __future__ import annotations

from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client

from apps.backoffice.second_factor import second_factor_base32, second_factor_demo_key, second_factor_device
from apps.organizations.models import Membership
from apps.people.models import User
from apps.portal.management.commands.seed_demo import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.factories import totp_code

pytestmark = pytest.mark.django_db

STAFF = {
    "viewer@example.com": "viewer",
    "operator@example.com": "operator",
    "administrator@example.com": "administrator",
}


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_each_role_has_a_demo_staff_member_of_the_demo_organization():
    output = _seed()
    _seed()

    for email, role in STAFF.items():
        user = User.objects.filter_by_email(email).get()
        assert (user.is_staff, user.is_superuser) == (True, False)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert list(Membership.objects.filter(user=user).values_list("organization__slug", flat=True)) == ["demo"]
        assert f"{email} / {ADMIN_PASSWORD}" in output


@pytest.mark.parametrize(("email", "buttons"), [("viewer@example.com", False), ("operator@example.com", True)])
def test_the_demo_staff_sign_in_and_see_the_demo_data(email, buttons):
    _seed()
    client = Client()

    signed_in = client.post("/admin/login/", {"username": email, "password": ADMIN_PASSWORD})
    device = second_factor_device(user=User.objects.filter_by_email(email).get())
    verified = client.post(signed_in["Location"], {"otp_token": totp_code(device)})
    response = client.get("/admin/verifications/verificationprocess/")

    assert signed_in.status_code == 302
    assert signed_in["Location"].startswith("/admin/second-factor/")
    assert verified.status_code == 302
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    assert ("export-csv" in response.content.decode()) is buttons


def test_the_demo_staff_have_a_stable_printed_totp_key():
    output = _seed()

    for email in (ADMIN_EMAIL, *STAFF):
        device = second_factor_device(user=User.objects.filter_by_email(email).get())
        assert device.key == second_factor_demo_key(email)
        assert f"TOTP key {second_factor_base32(device)}" in output
    assert "python manage.py staff_totp <email>" in output


def test_staff_totp_prints_the_current_code_under_local_settings_only(settings):
    _seed()
    device = second_factor_device(user=User.objects.filter_by_email("viewer@example.com").get())
    out = StringIO()

    with pytest.raises(CommandError, match="make run's demo only"):
        call_command("staff_totp", "viewer@example.com", stdout=out)
    settings.DEMO_STAFF_TOTP_COMMAND = True
    with time_machine.travel("2026-12-01 10:00:05Z", tick=False):
        call_command("staff_totp", "viewer@example.com", stdout=out)
        expected = totp_code(device)

    assert out.getvalue().strip() == expected

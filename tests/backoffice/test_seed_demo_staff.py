"""`seed_demo` gives the demo organization one staff member per role, who can sign in to /admin/."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from apps.organizations.management.commands.seed_demo import ADMIN_PASSWORD
from apps.organizations.models import Membership
from apps.people.models import User

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
    response = client.get("/admin/verifications/verificationprocess/")

    assert signed_in.status_code == 302
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    assert ("export-csv" in response.content.decode()) is buttons

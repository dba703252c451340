"""Staff roles are groups made by a data migration: viewer looks, operator acts, administrator manages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from apps.backoffice.roles import ADMINISTRATOR, OPERATOR, ROLES, VIEWER

pytestmark = pytest.mark.django_db


def _perms(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_the_migration_creates_the_three_groups():
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == {
        VIEWER,
        OPERATOR,
        ADMINISTRATOR,
    }


def test_a_viewer_may_only_look():
    perms = _perms(VIEWER)

    assert perms
    assert all(perm.split(".")[1].startswith("view_") for perm in perms)
    for model in ("identities.view_externalpersonalidentity", "webhooks.view_delivery", "audit.view_transition"):
        assert model in perms
    assert not any(perm.startswith("auth.") for perm in perms)


def test_an_operator_changes_what_they_act_on_and_exports_but_adds_and_deletes_nothing():
    perms = _perms(OPERATOR)

    assert _perms(VIEWER) <= perms
    for perm in (
        "identities.change_externalpersonalidentity",
        "verifications.change_verificationprocess",
        "identifications.change_otpidentification",
        "activities.change_activity",
        "webhooks.change_delivery",
        "backoffice.export_csv",
    ):
        assert perm in perms
    assert not any(perm.split(".")[1].startswith(("add_", "delete_")) for perm in perms)
    assert "organizations.change_organization" not in perms
    assert "people.change_user" not in perms


def test_an_administrator_manages_their_organizations_objects_but_no_account():
    perms = _perms(ADMINISTRATOR)

    assert _perms(OPERATOR) <= perms
    for perm in (
        "organizations.change_organization",
        "organizations.add_apikey",
        "organizations.delete_apikey",
        "organizations.view_membership",
        "webhooks.add_webhookendpoint",
        "webhooks.delete_webhookendpoint",
    ):
        assert perm in perms
    # Granting roles, accounts, memberships and new organizations stay with superusers (issue 15).
    assert not any(perm.startswith(("auth.", "people.")) for perm in perms)
    for perm in (
        "organizations.add_organization",
        "organizations.delete_organization",
        "organizations.add_membership",
        "organizations.change_membership",
        "organizations.delete_membership",
    ):
        assert perm not in perms


@pytest.mark.parametrize("role", ROLES)
def test_no_role_reaches_accounts_or_personal_details(role):
    assert not any(perm.startswith("people.") for perm in _perms(role))

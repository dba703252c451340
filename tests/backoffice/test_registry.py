"""Every model in the back office can be filtered and searched, and every audited one shows its trail."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import models

from apps.backoffice.admin_audit import TransitionInline
from apps.backoffice.admin_scoping import OrganizationScopedAdminMixin

pytestmark = pytest.mark.django_db

# A person's own objects that staff never see (API.md "Pages": proposed updates are the person's;
# "People's apps": the apps a person connected are theirs to revoke, from /me/).
PERSON_ONLY = {"people.DetailProposal", "oauth.Connection"}
# Internal indexes no one reads as such: the blind index of names (staff search through it) and
# the dashboard's counts (staff read them as its charts).
INTERNAL = {"identities.IdentityNameToken", "dashboard.Tally", "dashboard.TallyRun"}
PROJECT = [
    m
    for m in apps.get_models()
    if m.__module__.startswith("apps.") and m._meta.managed and m._meta.label not in PERSON_ONLY | INTERNAL
]
AUDITED = [m for m in PROJECT if hasattr(m, "EVENT_TYPE") and hasattr(m, "STATE_FIELD")]


@pytest.mark.parametrize("label", sorted(PERSON_ONLY | INTERNAL))
def test_a_persons_own_objects_are_not_in_the_back_office(label):
    assert apps.get_model(label) not in admin.site._registry


@pytest.mark.parametrize("model_admin", list(admin.site._registry.values()), ids=lambda a: a.model._meta.label)
def test_every_registered_admin_has_filters_and_search(model_admin):
    assert model_admin.list_filter, f"{model_admin} has no list_filter"
    assert model_admin.search_fields, f"{model_admin} has no search_fields"


@pytest.mark.parametrize("model", PROJECT, ids=lambda m: m._meta.label)
def test_every_project_model_is_in_the_back_office_scoped_to_organizations(model):
    model_admin = admin.site._registry.get(model)

    assert model_admin is not None, f"{model._meta.label} is not registered"
    assert isinstance(model_admin, OrganizationScopedAdminMixin)
    dates = [f for f in model._meta.fields if isinstance(f, models.DateTimeField)]
    if dates:
        assert model_admin.date_hierarchy, f"{model._meta.label} has no date_hierarchy"


@pytest.mark.parametrize("model", AUDITED, ids=lambda m: m._meta.label)
def test_every_audited_model_shows_its_audit_trail(model):
    assert TransitionInline in admin.site._registry[model].inlines


def test_every_list_filter_names_the_organization_where_the_model_has_one():
    for model, model_admin in admin.site._registry.items():
        if any(f.name == "organization" for f in model._meta.fields):
            assert "organization" in model_admin.list_filter, model._meta.label


INLINES = sorted(
    {(model_admin.model, inline) for model_admin in admin.site._registry.values() for inline in model_admin.inlines},
    key=lambda pair: (pair[0]._meta.label, pair[1].__name__),
)


@pytest.mark.parametrize(("model", "inline"), INLINES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_every_inline_is_read_only_or_scopes_its_choices(model, inline):
    """An inline whose rows staff may add or change offers only choices scoped to them (issue 15:
    the Membership inline took any account's id)."""
    from django.test import RequestFactory

    from apps.backoffice.admin_scoping import ScopedInlineMixin
    from tests.backoffice.conftest import make_staff
    from tests.factories import OrganizationFactory

    request = RequestFactory().get("/admin/")
    request.user = make_staff("inline-check@example.com", "administrator", OrganizationFactory())
    instance = inline(model, admin.site)
    editable = instance.has_add_permission(request, None) or instance.has_change_permission(request, None)

    assert issubclass(inline, ScopedInlineMixin) or not editable, inline


def test_django_otps_device_admins_are_not_offered():
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)

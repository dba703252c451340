"""Staff see only the objects of the organizations they work for; superusers see everything."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.audit.selectors import transitions_for
from apps.identifications.services import identification_send_link
from apps.organizations.models import ApiKey, Organization
from apps.people.models import User
from apps.verifications.models import VerificationProcess
from tests.backoffice.conftest import make_identification, make_process
from tests.factories import OrganizationFactory, make_api_key, make_identity

pytestmark = pytest.mark.django_db

PROCESSES = "/admin/verifications/verificationprocess/"
IDENTITIES = "/admin/identities/externalpersonalidentity/"


def _ids(response) -> set[str]:
    return {str(obj.pk) for obj in response.context["cl"].result_list}


@pytest.fixture
def both(org, other_org):
    return {
        "ours": make_process(org),
        "theirs": make_process(other_org),
        "our_identity": make_identity(org, email="ours@example.com"),
        "their_identity": make_identity(other_org, email="theirs@example.com"),
    }


def test_staff_see_only_their_organizations_objects_in_lists(staff_client, both):
    client = staff_client("operator")

    assert _ids(client.get(PROCESSES)) == {str(both["ours"].pk)}
    assert _ids(client.get(IDENTITIES)) == {str(both["our_identity"].pk)}


def test_staff_cannot_open_another_organizations_object(staff_client, both):
    client = staff_client("operator")
    theirs = both["theirs"]

    assert client.get(f"{PROCESSES}{both['ours'].pk}/change/").status_code == 200
    assert client.get(f"{PROCESSES}{theirs.pk}/change/").status_code == 404
    assert client.get(f"{PROCESSES}{theirs.pk}/history/").status_code == 404
    assert client.get(f"{PROCESSES}{theirs.pk}/transition/cancel/").status_code == 404
    assert client.get(f"{IDENTITIES}{both['their_identity'].pk}/change/").status_code == 404


def test_staff_cannot_act_on_another_organizations_object(staff_client, both):
    client = staff_client("operator")
    theirs = both["theirs"]
    before = transitions_for(theirs).count()

    cancel = client.post(f"{PROCESSES}{theirs.pk}/transition/cancel/", {"reason": "not mine"})
    bulk = client.post(
        PROCESSES, {"action": "cancel_with_reason", "_selected_action": [str(theirs.pk)], "apply": "1", "reason": "x"}
    )

    assert cancel.status_code == 404
    assert bulk.status_code == 302  # nothing selected that this staff member can see
    assert VerificationProcess.objects.get(pk=theirs.pk).status == "pending"
    assert transitions_for(theirs).count() == before


def test_a_superuser_sees_every_organization(staff_client, both):
    client = staff_client(None, superuser=True)

    assert _ids(client.get(PROCESSES)) == {str(both["ours"].pk), str(both["theirs"].pk)}
    assert client.get(f"{PROCESSES}{both['theirs'].pk}/change/").status_code == 200


def test_a_member_of_both_organizations_sees_both(staff_client, org, other_org, both):
    client = staff_client("viewer", org, other_org)

    assert _ids(client.get(PROCESSES)) == {str(both["ours"].pk), str(both["theirs"].pk)}


def test_the_organization_filter_lists_only_their_organizations(staff_client, org, other_org, both):
    third = OrganizationFactory(slug="initech", name="Initech")
    response = staff_client("viewer", org, third).get(PROCESSES)

    (spec,) = [s for s in response.context["cl"].filter_specs if getattr(s, "field_path", "") == "organization"]
    assert sorted(label for _, label in spec.lookup_choices) == ["Acme Bank", "Initech"]
    assert str(other_org) not in response.content.decode()


def test_one_organization_needs_no_organization_filter(staff_client, other_org, both):
    response = staff_client("viewer").get(PROCESSES)

    assert not [s for s in response.context["cl"].filter_specs if getattr(s, "field_path", "") == "organization"]
    assert str(other_org) not in response.content.decode()


def test_filtering_by_another_organization_is_refused(staff_client, other_org, both):
    response = staff_client("viewer").get(PROCESSES, {"organization__id__exact": str(other_org.pk)})

    assert response.status_code == 400
    assert str(both["theirs"].pk) not in response.content.decode()


def test_related_objects_are_scoped_through_their_path(staff_client, org, other_org):
    ours = make_identification(org, email="a@example.com")
    theirs = make_identification(other_org, email="b@example.com")
    for identification in (ours, theirs):
        identification_send_link(identification=identification)
    client = staff_client("viewer")

    response = client.get("/admin/identifications/otpmessage/")

    shown = {str(message.identification_id) for message in response.context["cl"].result_list}
    assert shown == {str(ours.pk)}
    assert str(theirs.pk) not in shown


@pytest.mark.parametrize("role", ["viewer", "operator", "administrator"])
def test_accounts_are_for_superusers_only(staff_client, org, role):
    from apps.identities.services import identity_activate
    from tests.factories import make_person

    identity_activate(identity=make_identity(org, email="ana@example.com"), person=make_person("ana@example.com"))

    assert staff_client(role).get("/admin/people/user/").status_code == 403
    assert staff_client(role).get("/admin/people/personaldetail/").status_code == 403
    everyone = staff_client(None, superuser=True).get("/admin/people/user/")
    assert "ana@example.com" in {user.email for user in everyone.context["cl"].result_list}


def test_an_administrator_creates_api_keys_only_for_their_organizations(staff_client, org, other_org):
    client = staff_client("administrator")

    page = client.get("/admin/organizations/apikey/add/")
    choices = {str(pk) for pk, _ in page.context["adminform"].form.fields["organization"].choices if pk}
    refused = client.post(
        "/admin/organizations/apikey/add/", {"organization": str(other_org.pk), "name": "x", "scopes": ["identities"]}
    )

    assert choices == {str(org.pk)}
    assert refused.status_code == 200  # the form answers with an error
    assert not ApiKey.objects.filter(organization=other_org).exists()


def test_only_a_superuser_adds_an_organization(staff_client):
    refused = staff_client("administrator").post("/admin/organizations/organization/add/", _org_form("initech", "I"))
    added = staff_client(None, superuser=True).post("/admin/organizations/organization/add/", _org_form("initech", "I"))

    assert refused.status_code == 403
    assert added.status_code == 302
    assert Organization.objects.filter(slug="initech").exists()


def _org_form(slug: str, name: str) -> dict[str, str]:
    data = {"slug": slug, "name": name, "created_at_0": "2026-01-01", "created_at_1": "10:00:00"}
    for prefix in ("api_keys", "memberships"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    return data


@pytest.mark.parametrize("role", ["viewer", "operator", "administrator", None])
def test_every_changelist_and_object_page_opens_for_every_role(staff_client, org, role):
    make_api_key(org)
    make_process(org)
    make_identification(org)
    client = staff_client(role, superuser=role is None)

    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if not model_admin.has_view_permission(_request_for(client)) and role is not None:
            continue
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
        first = next(iter(response.context["cl"].result_list), None)
        if first is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
            assert client.get(change).status_code == 200, change


def _request_for(client):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(pk=client.session["_auth_user_id"])
    return request

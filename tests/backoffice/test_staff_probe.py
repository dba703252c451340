"""An attacker's probe of the back office after issue 15's staff-side fix.

Each finding is replayed as the attacker's steps (they failed before the fix in the same
commit); the boundaries that held and had no test yet follow. The attacker is staff of
`acme` (the `org` fixture); `globex` (`other_org`) is another organization; root is the
platform's superuser. Fixtures come from tests/backoffice/test_staff_boundaries.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from apps.activities.models import Activity, ActivityStatus, ActivityType
from apps.activities.services import activity_create
from apps.audit.services import Actor, transition_apply
from apps.identifications.models import IdentificationStatus, OtpIdentification
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.identities.services import identity_activate
from apps.verifications.models import VerificationProcess
from tests.backoffice.conftest import make_identification, make_process
from tests.backoffice.test_staff_boundaries import administrator, ana, attacker, root  # noqa: F401 - fixtures
from tests.factories import make_identity, make_person, staff_login

pytestmark = pytest.mark.django_db

PASSWORD = "staff-pass-123"


def _pending_request(org, receptor: ExternalPersonalIdentity) -> Activity:
    desk = identity_activate(
        identity=make_identity(org, email="desk@example.com"), person=make_person("desk@example.com")
    )
    return activity_create(
        organization=org,
        type=ActivityType.REQUEST,
        initiator_id=desk.pk,
        receptor_id=receptor.pk,
        requirements=[{"detail": "first_name", "required": True}],
        valid_for=timedelta(days=7),
        actor=Actor.system("test"),
    )


# --- Finding 1 (high): an organization's administrator deleted audited objects ----------------
# The administrator role holds every delete permission of the project's apps, so the admin's
# delete page and its "delete selected" action removed an ACTIVE identity (unlinking its person
# from the organization without their act), a person's pending request, a verification process
# and an identification the API refuses to delete without the force scope: no transition, no
# audit row, no webhook.


@pytest.mark.parametrize("who", ["administrator", "superuser"])
def test_no_one_deletes_an_audited_object_in_the_back_office(who, attacker, org, ana, root):  # noqa: F811
    client = attacker if who == "administrator" else staff_login(Client(), root)
    identity = ana.identities.get(organization=org)  # ACTIVE, linked to Ana's account
    bea = identity_activate(identity=make_identity(org, email="bea@example.com"), person=make_person("bea@example.com"))
    request = _pending_request(org, bea)  # waiting for Bea's answer
    process = make_process(org)
    identification = transition_apply(make_identification(org), "start", actor=Actor.system("test"))
    targets = [
        ("/admin/identities/externalpersonalidentity/", identity),
        ("/admin/activities/activity/", request),
        ("/admin/verifications/verificationprocess/", process),
        ("/admin/identifications/otpidentification/", identification),
    ]

    for changelist, obj in targets:
        page = client.get(f"{changelist}{obj.pk}/delete/")
        post = client.post(f"{changelist}{obj.pk}/delete/", {"post": "yes"})
        bulk = client.post(changelist, {"action": "delete_selected", "_selected_action": [str(obj.pk)], "post": "yes"})
        listed = client.get(changelist).content.decode()

        assert (page.status_code, post.status_code) == (403, 403), changelist
        assert bulk.status_code in (200, 302), changelist  # no such action: the list again
        assert 'value="delete_selected"' not in listed, changelist

    assert ExternalPersonalIdentity.objects.get(pk=identity.pk).person_id == ana.pk
    assert Activity.objects.get(pk=request.pk).status == ActivityStatus.PENDING
    assert VerificationProcess.objects.filter(pk=process.pk).exists()
    assert OtpIdentification.objects.get(pk=identification.pk).status == IdentificationStatus.IN_PROGRESS
    assert ExternalPersonalIdentity.objects.get(pk=identity.pk).state == IdentityState.ACTIVE

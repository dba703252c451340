"""FSM buttons: only legal ones, only for staff who may change the object, always audited."""

from __future__ import annotations

import pytest

from apps.audit.models import ActorType
from apps.audit.selectors import transitions_for
from apps.identifications.models import IdentificationStatus, OtpIdentification
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.identities.services import identity_activate
from apps.verifications.models import VerificationProcess
from tests.backoffice.conftest import (
    AUDIT_INLINE,
    inline_management,
    make_identification,
    make_process,
    transition_buttons,
)
from tests.factories import make_identity, make_person

pytestmark = pytest.mark.django_db

IDENTITIES = "/admin/identities/externalpersonalidentity/"
PROCESSES = "/admin/verifications/verificationprocess/"
IDENTIFICATIONS = "/admin/identifications/otpidentification/"


def _active_identity(org) -> ExternalPersonalIdentity:
    return identity_activate(identity=make_identity(org), person=make_person("ana@example.com"))


def _identity_form(identity: ExternalPersonalIdentity) -> dict[str, str]:
    return {
        "email_address": identity.email_address,
        "first_name": identity.first_name,
        "last_name": identity.last_name,
        **inline_management(AUDIT_INLINE),
    }


def test_a_viewer_sees_the_object_and_its_trail_but_no_button(staff_client, org):
    identity = _active_identity(org)

    response = staff_client("viewer").get(f"{IDENTITIES}{identity.pk}/change/")

    assert response.status_code == 200
    assert "Audit trail" in response.content.decode()
    assert transition_buttons(response) == set()
    assert "Resend the invitation" not in response.content.decode()


def test_a_viewer_cannot_post_a_transition(staff_client, org):
    identity = _active_identity(org)
    process = make_process(org)
    client = staff_client("viewer")

    post = client.post(
        f"{IDENTITIES}{identity.pk}/change/", {**_identity_form(identity), "_fsm_transition_to": "deactivate"}
    )
    form = client.get(f"{PROCESSES}{process.pk}/transition/cancel/")
    form_post = client.post(f"{PROCESSES}{process.pk}/transition/cancel/", {"reason": "viewer tries"})

    assert (post.status_code, form.status_code, form_post.status_code) == (403, 403, 403)
    assert ExternalPersonalIdentity.objects.get(pk=identity.pk).state == IdentityState.ACTIVE
    assert VerificationProcess.objects.get(pk=process.pk).status == "pending"


def test_an_operator_runs_a_transition_and_it_shows_in_the_audit_trail(staff_client, org):
    identity = _active_identity(org)
    client = staff_client("operator")
    page = client.get(f"{IDENTITIES}{identity.pk}/change/")
    assert transition_buttons(page) == {"deactivate"}

    to_form = client.post(
        f"{IDENTITIES}{identity.pk}/change/", {**_identity_form(identity), "_fsm_transition_to": "deactivate"}
    )
    # One click only opens the confirmation page, which asks for a reason.
    assert to_form.status_code == 302
    assert ExternalPersonalIdentity.objects.get(pk=identity.pk).state == IdentityState.ACTIVE
    assert 'name="reason"' in client.get(to_form["Location"]).content.decode()
    response = client.post(to_form["Location"], {"reason": "Contract ended"})

    assert response.status_code == 302
    assert ExternalPersonalIdentity.objects.get(pk=identity.pk).state == IdentityState.DEACTIVATED
    row = transitions_for(identity).last()
    assert (row.from_state, row.to_state, row.actor_type, row.reason) == (
        "ACTIVE",
        "DEACTIVATED",
        ActorType.USER,
        "Contract ended",
    )
    after = client.get(response["Location"])
    assert transition_buttons(after) == {"reactivate"}
    (inline,) = after.context["inline_admin_formsets"]
    assert [f.instance.to_state for f in inline.formset.forms][-1] == "DEACTIVATED"
    assert "“Deactivate” done: the external personal identity “Ana García (Deactivated)” is now deactivated." in [
        str(m) for m in after.context["messages"]
    ]


def test_an_illegal_transition_answers_a_sentence_about_the_state(staff_client, org):
    process = make_process(org)
    client = staff_client("operator")
    client.post(f"{PROCESSES}{process.pk}/transition/cancel/", {"reason": "first"})

    again = client.post(f"{PROCESSES}{process.pk}/transition/cancel/", {"reason": "second"}, follow=True)

    messages = [str(m) for m in again.context["messages"]]
    assert "This verification process is already canceled, so “Cancel” is no longer possible." in messages
    assert transitions_for(process).last().reason == "first"


def test_an_operator_gets_no_button_for_an_illegal_transition_and_cannot_force_it(staff_client, org):
    identity = make_identity(org)  # INVITED: only the person activates it
    client = staff_client("operator")
    before = transitions_for(identity).count()

    page = client.get(f"{IDENTITIES}{identity.pk}/change/")
    for name in ("deactivate", "activate"):
        client.post(f"{IDENTITIES}{identity.pk}/change/", {**_identity_form(identity), "_fsm_transition_to": name})

    assert transition_buttons(page) == set()
    assert ExternalPersonalIdentity.objects.get(pk=identity.pk).state == IdentityState.INVITED
    assert transitions_for(identity).count() == before


def test_cancel_asks_for_a_reason_and_writes_it_to_the_audit_trail(staff_client, org):
    process = make_process(org)
    client = staff_client("operator")
    assert "cancel" in transition_buttons(client.get(f"{PROCESSES}{process.pk}/change/"))

    to_form = client.post(
        f"{PROCESSES}{process.pk}/change/", {**inline_management(AUDIT_INLINE), "_fsm_transition_to": "cancel"}
    )
    assert to_form.status_code == 302
    form = client.get(to_form["Location"])
    assert form.status_code == 200
    assert 'name="reason"' in form.content.decode()
    empty = client.post(to_form["Location"], {"reason": "   "})
    assert empty.status_code == 200
    assert VerificationProcess.objects.get(pk=process.pk).status == "pending"

    done = client.post(to_form["Location"], {"reason": "Customer asked us to stop"})

    assert done.status_code == 302
    assert VerificationProcess.objects.get(pk=process.pk).status == "canceled"
    row = transitions_for(process).last()
    assert (row.to_state, row.reason, row.actor_type) == ("canceled", "Customer asked us to stop", ActorType.USER)


def test_staff_cancel_an_identification_with_a_reason(staff_client, org):
    identification = make_identification(org)
    client = staff_client("operator")
    assert transition_buttons(client.get(f"{IDENTIFICATIONS}{identification.pk}/change/")) == {"cancel"}

    response = client.post(f"{IDENTIFICATIONS}{identification.pk}/transition/cancel/", {"reason": "Fraud suspected"})

    assert response.status_code == 302
    identification = OtpIdentification.objects.get(pk=identification.pk)
    assert identification.status == IdentificationStatus.CANCELED
    assert identification.cancel_reason == "Fraud suspected"
    assert transitions_for(identification).last().reason == "Fraud suspected"


def test_bulk_cancel_asks_for_a_reason_then_cancels_each_open_one(staff_client, org):
    first, second = make_identification(org, "a@example.com"), make_identification(org, "b@example.com")
    done = make_identification(org, "c@example.com")
    client = staff_client("operator")
    # Already canceled: the bulk cancel refuses it with a message.
    client.post(f"{IDENTIFICATIONS}{done.pk}/transition/cancel/", {"reason": "first"})
    selected = [str(first.pk), str(second.pk), str(done.pk)]

    page = client.post(IDENTIFICATIONS, {"action": "cancel_with_reason", "_selected_action": selected})
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    assert OtpIdentification.objects.filter(status=IdentificationStatus.CANCELED).count() == 1

    response = client.post(
        IDENTIFICATIONS,
        {"action": "cancel_with_reason", "_selected_action": selected, "apply": "1", "reason": "Campaign withdrawn"},
        follow=True,
    )

    messages = [str(m) for m in response.context["messages"]]
    assert "2 identifications canceled; the integrator is notified." in messages
    assert any("is already canceled" in m for m in messages)
    for identification in (first, second):
        assert transitions_for(identification).last().reason == "Campaign withdrawn"
    assert transitions_for(done).last().reason == "first"


def test_a_viewer_gets_no_actions(staff_client, org):
    make_identification(org)

    response = staff_client("viewer").get(IDENTIFICATIONS)

    assert response.status_code == 200
    assert response.context["action_form"] is None
    assert "cancel_with_reason" not in response.content.decode()
    assert "resend_message" not in response.content.decode()


def test_a_page_with_nothing_to_edit_has_no_save_button(staff_client, org):
    process = make_process(org)

    page = staff_client("operator").get(f"{PROCESSES}{process.pk}/change/").content.decode()

    assert 'name="_save"' not in page
    assert 'value="cancel"' in page

"""Operator tools: redeliver a webhook, resend an invitation or an identification link, export CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.core import mail

from apps.audit.selectors import transitions_for
from apps.identifications.models import MessageKind, OtpMessage
from apps.identities.models import ExternalPersonalIdentity
from apps.identities.services import identity_activate
from apps.webhooks.endpoints import endpoint_ping
from apps.webhooks.models import Delivery, WebhookEndpoint
from tests.backoffice.conftest import make_identification, make_process
from tests.factories import make_identity, make_person

pytestmark = pytest.mark.django_db

IDENTITIES = "/admin/identities/externalpersonalidentity/"
IDENTIFICATIONS = "/admin/identifications/otpidentification/"
DELIVERIES = "/admin/webhooks/delivery/"
PROCESSES = "/admin/verifications/verificationprocess/"


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def delivery(org) -> Delivery:
    endpoint = WebhookEndpoint.objects.create(
        organization=org, url="https://hooks.example.com/in", events=["webhook.ping"], secret="whsec_dGVzdA=="
    )
    return endpoint_ping(endpoint=endpoint)


def test_an_operator_redelivers_a_webhook_from_its_page(staff_client, delivery, django_capture_on_commit_callbacks):
    client = staff_client("operator")
    page = client.get(f"{DELIVERIES}{delivery.pk}/change/")
    assert "Redeliver (same event, same webhook-id)" in page.content.decode()

    response = client.post(f"{DELIVERIES}{delivery.pk}/run/redeliver/", follow=True)

    again = Delivery.objects.get(redelivery_of=delivery)
    assert (again.event_id, again.endpoint_id, again.status) == (delivery.event_id, delivery.endpoint_id, "pending")
    assert "Queued 1 redelivery." in _messages(response)
    assert response.redirect_chain[-1][0] == f"{DELIVERIES}{delivery.pk}/change/"


def test_a_viewer_cannot_redeliver(staff_client, delivery):
    client = staff_client("viewer")

    assert "Redeliver (same" not in client.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()
    assert client.post(f"{DELIVERIES}{delivery.pk}/run/redeliver/").status_code == 403
    client.post(DELIVERIES, {"action": "redeliver", "_selected_action": [str(delivery.pk)]})
    assert not Delivery.objects.filter(redelivery_of=delivery).exists()


def test_an_operator_resends_an_invitation(staff_client, org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        identity = make_identity(org, email="carla@example.com")
    mail.outbox.clear()
    client = staff_client("operator")

    confirm = client.post(f"{IDENTITIES}{identity.pk}/run/resend_invitation/")
    assert confirm.status_code == 200 and 'name="reason"' in confirm.content.decode()
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{IDENTITIES}{identity.pk}/run/resend_invitation/",
            {"apply": "1", "reason": "The customer lost the first email"},
            follow=True,
        )

    assert [m.to for m in mail.outbox] == [["carla@example.com"]]
    assert ExternalPersonalIdentity.objects.get(pk=identity.pk).invitation_count == 2
    assert "1 invitation sent again; the previous link no longer works." in _messages(response)
    row = transitions_for(identity).last()
    assert (row.event_type, row.reason, row.actor_type) == (
        "identity.invitation_resent",
        "The customer lost the first email",
        "user",
    )


def test_an_active_identity_gets_no_invitation(staff_client, org, django_capture_on_commit_callbacks):
    identity = identity_activate(identity=make_identity(org), person=make_person("ana@example.com"))
    mail.outbox.clear()
    client = staff_client("operator")

    page = client.get(f"{IDENTITIES}{identity.pk}/change/").content.decode()
    assert "Resend the invitation" not in page  # only actions legal in the current state are offered
    confirm = client.post(IDENTITIES, {"action": "resend_invitation", "_selected_action": [str(identity.pk)]})
    assert "This invitation was already accepted" in confirm.content.decode()
    assert 'name="reason"' not in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            IDENTITIES,
            {"action": "resend_invitation", "_selected_action": [str(identity.pk)], "apply": "1", "reason": "x"},
            follow=True,
        )
        forced = client.post(f"{IDENTITIES}{identity.pk}/run/resend_invitation/", follow=True)

    assert mail.outbox == []
    assert any("This invitation was already accepted: the identity is active." in m for m in _messages(response))
    assert any("This invitation was already accepted" in m for m in _messages(forced))
    assert not any(str(identity.pk).upper() in m for m in _messages(response))


def test_an_operator_resends_an_identification_link(staff_client, org):
    identification = make_identification(org)
    client = staff_client("operator")

    response = client.post(f"{IDENTIFICATIONS}{identification.pk}/run/resend_message/", follow=True)

    (message,) = OtpMessage.objects.filter(identification=identification)
    assert (message.kind, message.channel, message.status) == (MessageKind.LINK, "EMAIL", "SENT")
    assert [m.to for m in mail.outbox] == [["dora@example.com"]]
    assert "The identification link was sent again to 1 person." in _messages(response)


def test_an_operator_past_the_message_limits_gets_a_message_not_an_error(staff_client, org):
    """Staff resends count against the same per-destination limits as the API (issue 15)."""
    identification = make_identification(org)
    client = staff_client("operator")

    answers = [client.post(f"{IDENTIFICATIONS}{identification.pk}/run/resend_message/", follow=True) for _ in range(4)]

    assert [a.status_code for a in answers] == [200] * 4
    assert OtpMessage.objects.filter(identification=identification).count() == 3
    assert any("the most allowed" in m for m in _messages(answers[-1]))


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_follows_the_filters_and_shows_only_the_list_columns(staff_client, org, other_org):
    make_identification(org, "a@example.com")
    canceled = make_identification(org, "b@example.com")
    make_identification(other_org, "c@example.com")
    client = staff_client("operator")
    client.post(f"{IDENTIFICATIONS}{canceled.pk}/transition/cancel/", {"reason": "x"})
    changelist = client.get(IDENTIFICATIONS, {"status__exact": "CREATED"})
    assert f"{IDENTIFICATIONS}export-csv/?status__exact=CREATED" in changelist.content.decode()

    rows = _csv(client.get(f"{IDENTIFICATIONS}export-csv/", {"status__exact": "CREATED"}))

    assert rows[0] == [
        "status",
        "channel",
        "two factor type",
        "organization",
        "created at",
        "Images waiting",
        "Short id",
    ]
    assert len(rows) == 2  # the header and the one CREATED identification of acme
    assert rows[1][0:4] == ["Created", "Email", "Document number", "Acme Bank"]
    assert rows[1][4].startswith("20") and "T" in rows[1][4]  # ISO 8601
    assert rows[1][5] == "—"  # no images to review
    assert len(rows[1][6]) == 8  # the short id, last
    flat = " ".join(" ".join(row) for row in rows)
    assert "a@example.com" not in flat and "X" not in flat.replace("Expires", "")  # no actor data


def test_the_export_neutralises_spreadsheet_formulas(staff_client, org):
    for email, first_name in (
        ("f@example.com", '=HYPERLINK("http://evil")'),
        ("g@example.com", "+SUM(1)"),
        ("h@example.com", "-2+3"),
        ("i@example.com", "@SUM(A1)"),
    ):
        make_identity(org, email=email, first_name=first_name, last_name="=x")

    rows = _csv(staff_client("operator").get(f"{IDENTITIES}export-csv/"))

    cells = [cell for row in rows[1:] for cell in row]
    for shown in ('=HYPERLINK("http://evil")', "+SUM(1)", "-2+3", "@SUM(A1)"):
        assert f"'{shown} =x (Invited)" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


def test_the_export_respects_search_and_organization_scope(staff_client, org, other_org):
    make_identity(org, email="ana@example.com")
    make_identity(org, email="bob@example.com")
    make_identity(other_org, email="ana@example.com")

    rows = _csv(staff_client("operator").get(f"{IDENTITIES}export-csv/", {"q": "ana@example.com"}))

    assert [row[1] for row in rows[1:]] == ["ana@example.com"]
    assert rows[1][2] == "Acme Bank"


def test_a_viewer_cannot_export(staff_client, org):
    make_process(org)
    client = staff_client("viewer")

    assert "export-csv" not in client.get(PROCESSES).content.decode()
    assert client.get(f"{PROCESSES}export-csv/").status_code == 403


def test_an_unknown_filter_is_refused(staff_client, org):
    response = staff_client("operator").get(f"{PROCESSES}export-csv/", {"nonsense__exact": "1"})

    assert response.status_code == 400


def test_the_audit_log_fits_its_columns_and_exports_them_whole(staff_client, org):
    identity = make_identity(org, email="ana@example.com")
    client = staff_client("operator")

    page = client.get("/admin/audit/transition/").content.decode()
    rows = _csv(client.get("/admin/audit/transition/export-csv/"))

    # The list: the event type may break after its dot, the object's short id (whole on hover),
    # the states before and after in one column.
    assert "identity.<wbr>state_changed" in page
    assert f'<span title="{identity.pk}">{str(identity.pk)[:8]}</span>' in page
    assert '<td class="field-change_column">→ INVITED</td>' in page
    # The export: the same columns, each value whole and the moment machine-readable.
    assert rows[0] == ["created at", "event type", "object ID", "change", "actor", "reason"]
    row = next(row for row in rows[1:] if row[2] == str(identity.pk))
    assert row[1] == "identity.state_changed"
    assert row[3] == "→ INVITED"
    assert row[0].startswith("20") and "T" in row[0]

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from apps.audit.models import Transition
from apps.audit.services import Actor, transition_apply
from apps.transfers.models import TransferSession
from tests.factories import make_person

pytestmark = pytest.mark.django_db


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_it_sends_a_signed_out_person_to_sign_in(new_session, client):
    body = new_session()
    response = client.get(f"/session/{body['session_id']}")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/session/")
    assert TransferSession.objects.get(pk=body["session_id"]).status == "initialized"


def test_it_shows_the_requester_scopes_values_and_matching_code(new_session, phone):
    sid = new_session()["session_id"]
    page = phone.get(f"/session/{sid}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme Bank asks for your details" in html
    assert "Ana" in html and "García" in html
    assert TransferSession.objects.get(pk=sid).matching_code in html
    assert TransferSession.objects.get(pk=sid).status == "retrieved"


def test_it_confirms_the_chosen_scopes_with_csrf(new_session, phone, api):
    sid = new_session()["session_id"]
    html = phone.get(f"/session/{sid}").content.decode()
    assert phone.post(f"/session/{sid}", {"decision": "confirmed", "scopes": ["last_name"]}).status_code == 403
    response = phone.post(
        f"/session/{sid}", {"decision": "confirmed", "scopes": ["last_name"], "csrfmiddlewaretoken": _csrf(html)}
    )
    assert response.status_code == 302
    session = TransferSession.objects.get(pk=sid)
    assert session.status == "confirmed"
    assert session.data == {"last_name": "García"}
    done = phone.get(f"/session/{sid}")
    assert 'data-status="confirmed"' in done.content.decode()


def test_it_declines(new_session, phone):
    sid = new_session()["session_id"]
    html = phone.get(f"/session/{sid}").content.decode()
    phone.post(f"/session/{sid}", {"decision": "declined", "csrfmiddlewaretoken": _csrf(html)})
    assert TransferSession.objects.get(pk=sid).status == "declined"
    assert TransferSession.objects.get(pk=sid).data is None


def test_it_says_when_the_session_is_unknown_expired_or_someone_elses(new_session, phone):
    assert phone.get(f"/session/{uuid.uuid4()}").status_code == 404
    sid = new_session(expires_in="PT30S")["session_id"]
    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=False):
        expired = phone.get(f"/session/{sid}")
    assert expired.status_code == 410
    assert "This request has expired" in expired.content.decode()

    other = new_session()["session_id"]
    phone.get(f"/session/{other}")
    eve = Client()
    eve.force_login(make_person("eve@example.com"))
    response = eve.get(f"/session/{other}")
    assert response.status_code == 409
    assert "already answered" in response.content.decode()
    assert "Ana" not in response.content.decode()


def test_it_renders_the_session_url_as_an_svg_qr_code(new_session, client):
    body = new_session()
    response = client.get(f"/session/{body['session_id']}/qr.svg", {"token": body["session_token"]})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.lstrip().startswith(b"<?xml") or b"<svg" in response.content[:200]


def test_the_qr_of_an_expired_session_no_longer_renders(new_session, client):
    body = new_session()
    session = TransferSession.objects.get(pk=body["session_id"])
    transition_apply(session, "expire", actor=Actor.system("test"))
    response = client.get(f"/session/{body['session_id']}/qr.svg", {"token": body["session_token"]})
    assert response.status_code == 410
    assert b"no longer works" in response.content
    assert b"<path" not in response.content


@pytest.mark.parametrize("page", ["qr.svg", "display"])
def test_it_refuses_pages_without_the_right_token(new_session, client, page):
    body = new_session()
    assert client.get(f"/session/{body['session_id']}/{page}").status_code == 401
    assert client.get(f"/session/{body['session_id']}/{page}", {"token": "nope"}).status_code == 401
    assert client.get(f"/session/{uuid.uuid4()}/{page}", {"token": body["session_token"]}).status_code == 404


def test_it_shows_the_display_page_embeddable_with_code_and_countdown(new_session, client):
    body = new_session()
    response = client.get(f"/session/{body['session_id']}/display", {"token": body["session_token"]})
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    html = response.content.decode()
    assert "Acme Bank asks for your details" in html
    assert "First name, Last name" in html
    assert TransferSession.objects.get(pk=body["session_id"]).matching_code in html
    assert 'id="transfer-countdown"' in html
    assert "qr.svg?token=" in html


def test_the_display_page_speaks_spanish_with_its_live_labels(new_session, client):
    body = new_session()
    response = client.get(
        f"/session/{body['session_id']}/display", {"token": body["session_token"]}, HTTP_ACCEPT_LANGUAGE="es"
    )
    html = response.content.decode()
    assert '<span class="badge" id="transfer-status" role="status" aria-live="polite">Iniciada</span>' in html
    # The script takes its status labels from the page, so pushed changes are in Spanish too.
    assert 'data-label-confirmed="Confirmada"' in html


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("en", "Choose at least one detail to share, or decline."),
        ("es", "Elige al menos un dato para compartir, o rechaza."),
    ],
)
def test_sharing_with_no_detail_ticked_shows_the_error_by_the_details_and_keeps_the_session_open(
    new_session, phone, language, says
):
    sid = new_session(scopes=["last_name", "first_name"])["session_id"]
    html = phone.get(f"/session/{sid}", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    transitions = Transition.objects.count()

    # Both boxes unticked: the browser sends no `scopes` at all.
    response = phone.post(
        f"/session/{sid}", {"decision": "confirmed", "csrfmiddlewaretoken": _csrf(html)}, HTTP_ACCEPT_LANGUAGE=language
    )

    assert response.status_code == 400
    page = response.content.decode()
    errors = re.search(
        r'<fieldset[^>]*aria-describedby="scopes-error".*?<div class="errors" id="scopes-error" role="alert">(.*?)</div>',
        page,
        re.S,
    )
    assert errors is not None, page
    assert says in errors.group(1)
    assert 'value="last_name" checked' not in page and 'value="first_name" checked' not in page
    session = TransferSession.objects.get(pk=sid)
    assert (session.status, session.data) == ("retrieved", None)
    assert Transition.objects.count() == transitions

    # The person answers again on the same page.
    again = phone.post(
        f"/session/{sid}", {"decision": "confirmed", "scopes": ["first_name"], "csrfmiddlewaretoken": _csrf(page)}
    )
    assert again.status_code == 302
    assert TransferSession.objects.get(pk=sid).data == {"first_name": "Ana"}


def test_a_detail_the_person_has_not_given_cannot_be_shared_from_the_page(new_session, phone):
    """A crafted post ticking a disabled box (Ana has no phone) shares nothing and changes nothing."""
    sid = new_session(scopes=["phone", "first_name"])["session_id"]
    html = phone.get(f"/session/{sid}").content.decode()

    response = phone.post(
        f"/session/{sid}", {"decision": "confirmed", "scopes": ["phone"], "csrfmiddlewaretoken": _csrf(html)}
    )

    assert response.status_code == 400
    assert 'id="scopes-error"' in response.content.decode()
    assert TransferSession.objects.get(pk=sid).status == "retrieved"

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from apps.verifications.models import VerificationProcess

pytestmark = pytest.mark.django_db

URL = "/api/v1/orgs/acme/processes"


def _create(api, **body):
    data = api.post(URL, {"provider": "sandbox", **body}, format="json").json()
    return data["processId"], data["url"].replace("http://testserver", "")


def test_it_lets_a_tester_pick_an_outcome_and_redirects_back(api, client):
    process_id, page = _create(api, redirectUrl="https://shop.example.com/done?order=7")
    response = client.get(page)
    assert response.status_code == 200
    assert b"Onfido: accepted" in response.content

    response = client.post(page, {"outcome": "facetec/inconclusive"})
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.netloc == "shop.example.com"
    assert parse_qs(target.query) == {"order": ["7"], "processId": [process_id], "status": ["inconclusive"]}
    process = VerificationProcess.objects.get(pk=process_id)
    assert (process.status, process.sandbox_provider) == ("inconclusive", "facetec")
    assert api.get(f"{URL}/{process_id}").json()["providerSpecific"]["matching"]


def test_it_produces_a_final_result_for_an_accepted_sandbox_outcome(api, client):
    process_id, page = _create(api)
    assert client.post(page, {"outcome": "signicatpaper/accepted"}).status_code == 302
    body = api.get(f"{URL}/{process_id}").json()
    assert body["status"] == "accepted"
    assert body["finalResult"]


def test_it_shows_the_result_and_ignores_a_second_choice(api, client):
    process_id, page = _create(api)
    client.post(page, {"outcome": "readid/rejected"})
    client.post(page, {"outcome": "readid/accepted"})
    assert VerificationProcess.objects.get(pk=process_id).status == "rejected"
    assert b"This verification is finished" in client.get(page).content


def test_it_refuses_an_unknown_outcome(api, client):
    process_id, page = _create(api)
    assert client.post(page, {"outcome": "onfido/jackpot"}).status_code == 400
    assert VerificationProcess.objects.get(pk=process_id).status == "pending"


def test_it_refuses_a_link_without_its_token(api, client):
    process_id, _ = _create(api)
    assert client.get(f"/verify/{process_id}/forged/").status_code == 404


def test_it_explains_a_real_provider_without_a_sandbox_form(api, client):
    data = api.post(URL, {"provider": "eid", "processType": "attended"}, format="json").json()
    response = client.get(data["url"].replace("http://testserver", ""))
    assert response.status_code == 200
    assert b"Electronic IDentification" in response.content
    assert b'name="outcome"' not in response.content

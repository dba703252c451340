from __future__ import annotations

import uuid

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from config.routing import websocket_urlpatterns
from tests.transfers.conftest import csrf_post

pytestmark = pytest.mark.django_db

app = URLRouter(websocket_urlpatterns)


def _communicator(session_id, token):
    return WebsocketCommunicator(app, f"/ws/session/{session_id}?token={token}")


def test_it_pushes_every_status_change(new_session, phone, django_capture_on_commit_callbacks):
    body = new_session()
    sid = body["session_id"]

    def answer():
        with django_capture_on_commit_callbacks(execute=True):
            phone.get(f"/api/v1/session/{sid}/information")
            csrf_post(
                phone, f"/api/v1/session/{sid}/update", {"decision": "confirmed", "accepted_scopes": ["first_name"]}
            )

    async def run():
        communicator = _communicator(sid, body["session_token"])
        connected, _ = await communicator.connect()
        assert connected
        assert await communicator.receive_json_from() == {"status": "initialized"}
        await sync_to_async(answer)()
        messages = [await communicator.receive_json_from(), await communicator.receive_json_from()]
        await communicator.disconnect()
        return messages

    assert async_to_sync(run)() == [{"status": "retrieved"}, {"status": "confirmed"}]


@pytest.mark.parametrize("token", ["", "wrong"])
def test_it_refuses_a_wrong_or_missing_token(new_session, token):
    sid = new_session()["session_id"]

    async def attempt():
        connected, code = await _communicator(sid, token).connect()
        return connected, code

    assert async_to_sync(attempt)() == (False, 4401)


def test_it_refuses_an_unknown_session(new_session):
    token = new_session()["session_token"]

    async def attempt():
        return (await _communicator(uuid.uuid4(), token).connect())[0]

    assert async_to_sync(attempt)() is False


def test_it_pushes_the_renewal(new_session, django_capture_on_commit_callbacks):
    body = new_session()
    renewed = {}

    def renew():
        with django_capture_on_commit_callbacks(execute=True):
            response = APIClient().post(
                f"/api/v1/session/{body['session_id']}/renew", HTTP_X_SESSION_TOKEN=body["session_token"]
            )
        renewed.update(response.json())

    async def run():
        communicator = _communicator(body["session_id"], body["session_token"])
        await communicator.connect()
        await communicator.receive_json_from()
        await sync_to_async(renew)()
        message = await communicator.receive_json_from()
        await communicator.disconnect()
        return message

    assert async_to_sync(run)() == {"status": "expired", "replaced_by": renewed["session_id"]}

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from apps.audit.models import Transition
from apps.transfers.models import TransferSession
from tests.transfers.conftest import csrf_post


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections; SQLite locks the file")
@pytest.mark.django_db(transaction=True)
def test_it_lets_one_of_two_simultaneous_answers_win(new_session, ana):
    sid = new_session()["session_id"]
    clients = []
    for _ in range(2):
        client = Client(enforce_csrf_checks=True)
        client.force_login(ana)
        clients.append(client)
    assert clients[0].get(f"/api/v1/session/{sid}/information").status_code == 200
    start = threading.Barrier(2)
    codes: list[int] = []
    errors: list[BaseException] = []

    def answer(client: Client, decision: str) -> None:
        try:
            client.get("/me/")
            start.wait(timeout=10)
            body = {"decision": decision, "accepted_scopes": ["first_name"] if decision == "confirmed" else []}
            response = csrf_post(client, f"/api/v1/session/{sid}/update", body)
            codes.append(response.status_code)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=answer, args=(clients[0], "confirmed")),
        threading.Thread(target=answer, args=(clients[1], "declined")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(codes) == [200, 409]
    session = TransferSession.objects.get(pk=sid)
    assert session.status in ("confirmed", "declined")
    answers = Transition.objects.filter(object_id=sid, to_state__in=["confirmed", "declined"])
    assert answers.count() == 1

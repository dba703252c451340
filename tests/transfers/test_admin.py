from __future__ import annotations

import pytest

from tests.factories import make_person, staff_login
from tests.transfers.conftest import csrf_post

pytestmark = pytest.mark.django_db


def test_it_shows_sessions_to_staff_without_the_shared_values(client, new_session, phone):
    sid = new_session()["session_id"]
    phone.get(f"/api/v1/session/{sid}/information")
    csrf_post(phone, f"/api/v1/session/{sid}/update", {"decision": "confirmed", "accepted_scopes": ["first_name"]})
    staff = make_person("staff@example.com")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    staff_login(client, staff)
    assert client.get("/admin/transfers/transfersession/").status_code == 200
    page = client.get(f"/admin/transfers/transfersession/{sid}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "confirmed" in html
    assert "Ana" not in html

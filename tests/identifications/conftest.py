from __future__ import annotations

import re

import pytest
from django.core import mail

from apps.identifications import sms

BASE = "/api/v1/orgs/acme/identifications/otp"


def body(**overrides):
    data = {
        "actor": {
            "name": "Ana",
            "surname": "García",
            "email": "ana@example.com",
            "phone": "+34600111222",
            "document_number": "12345678Z",
        },
        "expires_in": "P30D",
        "two_factor_type": "DOCUMENT_NUMBER",
        "channel": {"type": "EMAIL"},
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def _sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def create(api):
    """POST a create request as the owner; returns the response."""

    def post(**overrides):
        return api.post(BASE, body(**overrides), format="json")

    return post


@pytest.fixture
def created(create):
    response = create()
    assert response.status_code == 201, response.json()
    return response.json()


def page_path(url: str) -> str:
    return url.replace("http://testserver", "", 1)


# Each step of the actor's page posts to its own address under the page's (the same signed link).
STEPS = {"send": "send-code/", "code": "code/", "second_factor": "second-factor/", "images": "images/"}


def step_path(path: str, step: str) -> str:
    return path + STEPS[step]


def last_code() -> str:
    """The code from the last email or SMS sent (the only place it exists in clear)."""
    bodies = [m.body for m in mail.outbox] + [m.body for m in sms.outbox]
    codes = [match.group(1) for b in bodies if (match := re.search(r"code for .* is (\d{6})", b))]
    assert codes, bodies
    return codes[-1]

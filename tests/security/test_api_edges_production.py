"""Issue 15's API-edge findings replayed under config.settings.production on PostgreSQL: consent
before sharing, the sandbox and Connect without keys, message limits per destination, the JSON
depth limit, IPv6 forms of private addresses and the body caps.

tests/security/api_probe.py runs every attack in a fresh interpreter with the production
settings module and the environment a deployment sets, against the suite's PostgreSQL database
inside a transaction it rolls back. The same steps in detail under the test settings:
tests/activities/test_api.py, tests/verifications/test_sandbox_gate.py,
tests/verifications/test_connect_keys.py, tests/identifications/test_message_limits.py,
tests/api/test_json_depth.py, tests/webhooks/test_destinations.py,
tests/security/test_request_limits.py.
"""

from __future__ import annotations

import pytest

from tests.security.probes import ON_POSTGRESQL, probe_results

# The test database (test_<name>) exists once a test of the module asks for it.
pytestmark = [ON_POSTGRESQL, pytest.mark.django_db]


@pytest.fixture(scope="module")
def seen(django_db_setup, django_db_blocker, tmp_path_factory) -> dict:
    return probe_results("tests.security.api_probe", django_db_blocker, tmp_path_factory.mktemp("api-probe"))


def test_it_ran_under_the_production_settings(seen):
    assert seen["settings"] == {"DEBUG": False, "SANDBOX_ENABLED": False}


def test_no_share_or_swap_in_a_non_managed_persons_name(seen):
    assert seen["consent"] == {
        "integrator": [[403, ["not_managed"]], [403, ["not_managed"]]],
        "other_org": 404,
        "outsider": 401,
        "activities": 0,
        "snapshots": 0,
    }


def test_no_sandbox_and_no_connect_without_its_keys(seen):
    assert seen["providers"] == {"sandbox": 400, "connect": 400, "processes": 0}


def test_twenty_five_resends_send_three_messages(seen):
    assert seen["messages"] == {
        "created": 201,
        "resends": [204, 429],
        "first_two": [204, 204],
        "retry_after": True,
        "messages": 3,
        "sms_files": 3,
        "other_org_resend": 404,
    }


def test_a_deeply_nested_body_is_a_400(seen):
    assert seen["json_depth"] == {"activities": 400, "webhooks": 400}


def test_ipv6_forms_of_private_addresses_are_refused(seen):
    assert seen["ipv6"] == {"statuses": [400, 400, 400], "endpoints": 0}


def test_bodies_over_the_cap_are_refused_unread(seen):
    assert seen["bodies"] == {"login": 413, "api": 413}

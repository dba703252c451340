"""Issue 15's staff findings replayed under config.settings.production on PostgreSQL.

tests/security/staff_probe.py runs every attack in a fresh interpreter with the production
settings module and the environment a deployment sets (as test_production_settings.py does),
against the suite's PostgreSQL database inside a transaction it rolls back. Each test below
reads what one attack got. tests/backoffice/test_staff_boundaries.py has the same steps in
detail under the test settings.
"""

from __future__ import annotations

import pytest

from tests.security.probes import ON_POSTGRESQL, probe_results

# The test database (test_<name>) exists once a test of the module asks for it.
pytestmark = [ON_POSTGRESQL, pytest.mark.django_db]


@pytest.fixture(scope="module")
def seen(django_db_setup, django_db_blocker, tmp_path_factory) -> dict:
    return probe_results(
        "tests.security.staff_probe", django_db_blocker, tmp_path_factory.mktemp("staff-probe"), collectstatic=True
    )


def test_it_ran_under_the_production_settings(seen):
    assert seen["settings"] == {"DEBUG": False, "DEMO_STAFF_TOTP_COMMAND": False}


def test_an_administrator_cannot_make_the_superuser_a_member(seen):
    assert seen["membership"] == {"inline_member": False, "add_status": 403, "autocomplete_status": 403}


def test_an_administrator_cannot_set_a_persons_password_email_or_create_accounts(seen):
    assert seen["accounts"] == {"statuses": [403, 403, 403], "unchanged": True, "created": False}


def test_a_viewer_reads_no_account_id_in_the_audit_trail(seen):
    assert seen["audit"] == {"account_ids": [], "superuser_email": False}


def test_staff_do_not_read_what_a_person_shared_with_another_organization(seen):
    assert seen["values"] == {"other_orgs_value": False, "detail_names": True}


def test_filters_tell_nothing_about_another_organization(seen):
    assert seen["filters"] == {"through_person": 400, "other_org_id": 400, "people_list": 403, "names_other_org": False}


def test_wrong_passwords_from_one_address_lock_only_that_address_out(seen):
    assert seen["lockout"] == {"attacker_locked": True, "owner_elsewhere": True}


def test_no_admin_page_without_the_second_factor(seen):
    assert set(seen["second_factor"].values()) == {"/admin/second-factor/"}


def test_staff_sessions_end_after_30_idle_minutes_and_12_hours(seen):
    assert seen["sessions"] == {"idle_31_min": "/admin/login/", "after_12_hours": "/admin/login/"}


def test_the_admin_log_holds_no_personal_value(seen):
    assert seen["admin_log"] == {"personal": []}

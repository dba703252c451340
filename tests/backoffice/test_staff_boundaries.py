"""Issue 15, the staff side: each finding of the outside review, replayed as the attacker's steps.

The attacker is staff of `acme` (the `org` fixture); `globex` (the `other_org` fixture) is
another organization; `root@example.com` is the platform's superuser. tests/security/
test_staff_boundaries_production.py replays the same steps under the production settings.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone

from apps.activities.models import ActivityType
from apps.activities.services import activity_accept, activity_create, activity_withdraw
from apps.audit.services import Actor
from apps.identities.services import identity_activate
from apps.organizations.models import Membership
from apps.people.models import DetailSource, PersonalDetail, User
from apps.people.services import person_set_details
from tests.backoffice.conftest import make_identification, make_staff
from tests.factories import make_identity, make_person, staff_login

pytestmark = pytest.mark.django_db

PASSWORD = "staff-pass-123"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root@example.com", "root-pass-123")


@pytest.fixture
def administrator(org) -> User:
    return make_staff("boss@example.com", "administrator", org)


@pytest.fixture
def attacker(administrator) -> Client:
    return staff_login(Client(), administrator)


@pytest.fixture
def ana(org, other_org) -> User:
    """A customer of both organizations, who shares her first name with globex only."""
    person = make_person("ana@example.com")
    person_set_details(person=person, details={"first_name": "Ana", "last_name": "García"})
    PersonalDetail.objects.filter(person=person, name="last_name").update(
        source=DetailSource.VERIFIED, verified_by_provider="onfido"
    )
    identity_activate(identity=make_identity(org, email="ana@example.com"), person=person)
    theirs = identity_activate(identity=make_identity(other_org, email="ana@example.com"), person=person)
    _share(other_org, theirs, person, "first_name")
    return person


def _share(organization, giver_identity, person, detail: str):
    requester = identity_activate(
        identity=make_identity(organization, email=f"desk-{organization.slug}@example.com"),
        person=make_person(f"desk-{organization.slug}@example.com"),
    )
    activity = activity_create(
        organization=organization,
        type=ActivityType.REQUEST,
        initiator_id=requester.pk,
        receptor_id=giver_identity.pk,
        requirements=[{"detail": detail, "required": True}],
        actor=Actor.system("test"),
    )
    return activity_accept(
        activity=activity, accepted_details=[detail], sharing_period=timedelta(days=30), actor=Actor.user(person)
    )


def _org_form(org, **extra: str) -> dict[str, str]:
    data = {"name": org.name}
    for prefix in ("api_keys", "memberships"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    return data | extra


# --- Finding 1 (critical): the Membership inline took any account's id ------------------------


def test_an_administrator_cannot_make_the_superuser_a_member_by_raw_id(attacker, org, root):
    inline = _org_form(org, **{"memberships-TOTAL_FORMS": "1", "memberships-0-user": str(root.pk)})
    inline |= {"memberships-0-organization": str(org.pk)}

    through_inline = attacker.post(f"/admin/organizations/organization/{org.pk}/change/", inline)
    through_add = attacker.post(
        "/admin/organizations/membership/add/", {"organization": str(org.pk), "user": str(root.pk)}
    )

    assert through_inline.status_code in (200, 302)
    assert through_add.status_code == 403
    assert not Membership.objects.filter(user=root).exists()


def test_an_administrator_cannot_find_accounts_through_autocomplete(attacker, root):
    response = attacker.get(
        "/admin/autocomplete/",
        {"app_label": "organizations", "model_name": "membership", "field_name": "user", "term": "root"},
    )

    assert response.status_code == 403
    assert str(root.pk) not in response.content.decode()


def test_a_superuser_adds_only_staff_accounts_as_members(org, root):
    client = staff_login(Client(), root)
    person = make_person("someone@example.com")
    colleague = make_staff("colleague@example.com", "operator")

    refused = client.post("/admin/organizations/membership/add/", {"organization": str(org.pk), "user": str(person.pk)})
    added = client.post(
        "/admin/organizations/membership/add/", {"organization": str(org.pk), "user": str(colleague.pk)}
    )

    assert refused.status_code == 200
    assert not Membership.objects.filter(user=person).exists()
    assert added.status_code == 302
    assert Membership.objects.filter(user=colleague, organization=org).exists()


# --- Finding 2 (high): staff set people's passwords, emails and active flags -----------------


@pytest.mark.parametrize("role", ["viewer", "operator", "administrator"])
def test_staff_cannot_touch_a_persons_account(staff_client, ana, role):
    client = staff_client(role)
    before = User.objects.get(pk=ana.pk)
    person = f"/admin/people/user/{ana.pk}"

    answers = [
        client.get(f"{person}/change/").status_code,
        client.post(f"{person}/change/", {"email": "evil@example.com", "is_active": ""}).status_code,
        client.get(f"{person}/password/").status_code,
        client.post(f"{person}/password/", {"password1": "Taken-over-123", "password2": "Taken-over-123"}).status_code,
        client.post(
            "/admin/people/user/", {"action": "delete_selected", "_selected_action": [str(ana.pk)]}
        ).status_code,
    ]

    after = User.objects.get(pk=ana.pk)
    assert set(answers) == {403}
    assert (after.email, after.is_active, after.password) == (before.email, before.is_active, before.password)


@pytest.mark.parametrize("role", ["viewer", "operator", "administrator"])
def test_staff_cannot_create_an_account(staff_client, role):
    client = staff_client(role)
    count = User.objects.count()

    form = client.get("/admin/people/user/add/")
    post = client.post("/admin/people/user/add/", {"email": "new@example.com", "password1": "Some-pass-123"})

    assert (form.status_code, post.status_code) == (403, 403)
    assert User.objects.count() == count


# --- Finding 3 (high): every value of every person, edits, and a "Verified" edited value ------


def test_staff_see_only_the_values_shared_with_their_organization(attacker, org, ana):
    identity = ana.identities.get(organization=org)
    page = attacker.get(f"/admin/identities/externalpersonalidentity/{identity.pk}/change/").content.decode()

    # Which details exist and where they came from, but not globex's first name.
    assert "First name" in page and "Last name" in page
    assert "verified by onfido" in page and "self-declared" in page
    details = page.split('class="backoffice-details"')[1].split("</table>")[0]
    assert "Ana" not in details and "García" not in details
    assert details.count("not shared with this organization") == 2

    activity = _share(org, identity, ana, "first_name")
    shared = attacker.get(f"/admin/identities/externalpersonalidentity/{identity.pk}/change/").content.decode()
    assert "<td>Ana</td>" in shared
    assert shared.count("not shared with this organization") == 1

    with time_machine.travel(activity.sharing_until + timedelta(seconds=1)):
        ended = attacker.get(f"/admin/identities/externalpersonalidentity/{identity.pk}/change/").content.decode()
    assert "<td>Ana</td>" not in ended


def test_a_withdrawn_request_shows_no_value(attacker, org, ana):
    identity = ana.identities.get(organization=org)
    requester = make_identity(org, email="desk@example.com")
    activity = activity_create(
        organization=org,
        type=ActivityType.REQUEST,
        initiator_id=identity_activate(identity=requester, person=make_person("desk@example.com")).pk,
        receptor_id=identity.pk,
        requirements=[{"detail": "first_name", "required": True}],
        actor=Actor.system("test"),
    )
    activity_withdraw(activity=activity, actor=Actor.system("test"))

    page = attacker.get(f"/admin/identities/externalpersonalidentity/{identity.pk}/change/").content.decode()
    assert "<td>Ana</td>" not in page


def test_no_one_edits_a_detail_value_in_the_back_office(org, root, ana):
    client = staff_login(Client(), root)
    verified = PersonalDetail.objects.get(person=ana, name="last_name")
    page = client.get(f"/admin/people/user/{ana.pk}/change/")
    formset = next(f for f in page.context["inline_admin_formsets"] if f.opts.model is PersonalDetail)

    client.post(
        f"/admin/people/user/{ana.pk}/change/",
        {
            "email": ana.email,
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
            "details-TOTAL_FORMS": "2",
            "details-INITIAL_FORMS": "2",
            "details-0-id": str(PersonalDetail.objects.get(person=ana, name="first_name").pk),
            "details-0-value": "Mallory",
            "details-1-id": str(verified.pk),
            "details-1-value": "Forged",
        },
    )

    assert not formset.has_change_permission and not formset.has_add_permission
    assert {d.name: (d.value, d.source) for d in PersonalDetail.objects.filter(person=ana)} == {
        "first_name": ("Ana", DetailSource.SELF_DECLARED),
        "last_name": ("García", DetailSource.VERIFIED),
    }


# --- Finding 1 again: account ids in the audit trail ------------------------------------------


def test_a_viewer_reads_no_account_id_in_the_audit_trail(staff_client, org, root, ana, administrator):
    identity = ana.identities.get(organization=org)
    from apps.identities.services import identity_transition_by_staff

    identity_transition_by_staff(identity=identity, transition="deactivate", user=root)
    viewer = staff_client("viewer")

    pages = [
        viewer.get(f"/admin/identities/externalpersonalidentity/{identity.pk}/change/").content.decode(),
        viewer.get("/admin/audit/transition/").content.decode(),
        viewer.get("/admin/audit/transition/export-csv/").content.decode(),
    ]

    for page in pages:
        for account in (root, ana, administrator):
            assert str(account.pk) not in page
        assert "root@example.com" not in page
    assert "platform staff" in pages[0] and "the person" in pages[0]


def test_fellow_staff_see_each_other_by_email_in_history(staff_client, org, administrator):
    identity = make_identity(org, email="bea@example.com")
    staff_login(Client(), administrator).post(
        f"/admin/identities/externalpersonalidentity/{identity.pk}/run/resend_invitation/",
        {"apply": "1", "reason": "Lost email"},
    )

    history = staff_client("viewer").get(f"/admin/identities/externalpersonalidentity/{identity.pk}/history/")

    assert "boss@example.com" in history.content.decode()
    assert not UUID.findall(history.content.decode().split('id="change-history"')[1].split("</table>")[0])


def test_the_admin_log_keeps_no_email_or_name(org, root):
    client = staff_login(Client(), root)
    colleague = make_staff("colleague@example.com", "operator")
    identity = make_identity(org, email="bea@example.com", first_name="Bea", last_name="Sol")

    client.post(
        f"/admin/identities/externalpersonalidentity/{identity.pk}/run/resend_invitation/",
        {"apply": "1", "reason": "Lost email"},
    )
    client.post(
        f"/admin/organizations/organization/{org.pk}/change/",
        _org_form(org, slug=org.slug, created_at_0="2026-01-01", created_at_1="10:00:00")
        | {"memberships-TOTAL_FORMS": "1", "memberships-0-user": str(colleague.pk)},
    )

    entries = list(LogEntry.objects.values_list("object_repr", "change_message"))
    assert len(entries) == 2
    text = repr(entries)
    for personal in ("bea@example.com", "Bea", "Sol", "colleague@example.com", "root@example.com"):
        assert personal not in text


# --- Low: filters that tell which of one's people are another organization's customers --------


def test_filters_name_no_other_organization(staff_client, org, other_org, ana):
    client = staff_client("administrator")
    identities = "/admin/identities/externalpersonalidentity/"

    by_slug = client.get(identities, {"person__identities__organization__slug": other_org.slug})
    by_id = client.get(identities, {"organization__id__exact": str(other_org.pk)})
    by_account = client.get(identities, {"person__email_hash": ana.email_hash})
    people = client.get("/admin/people/user/", {"identities__organization__id__exact": str(other_org.pk)})
    choices = client.get(identities).content.decode()

    assert (by_slug.status_code, by_id.status_code, by_account.status_code, people.status_code) == (400, 400, 400, 403)
    assert other_org.name not in choices and str(other_org.pk) not in choices


# --- Medium: no second factor ----------------------------------------------------------------


def test_no_admin_page_opens_without_the_second_factor(org):
    staff = make_staff("pw-only@example.com", "operator", org)
    identification = make_identification(org)
    client = Client()
    client.force_login(staff)  # the password only: no verified device in the session

    for url in (
        "/admin/",
        "/admin/dashboard/",
        "/admin/identities/externalpersonalidentity/",
        "/admin/identities/externalpersonalidentity/export-csv/",
        f"/admin/identifications/otpidentification/{identification.pk}/image/front/",
        "/admin/autocomplete/?app_label=organizations&model_name=membership&field_name=user",
        "/admin/jsi18n/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/second-factor/"), url


def test_a_password_sign_in_leads_to_enrolment_then_the_code_page(org):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.factories import totp_code

    staff = make_staff("new@example.com", "viewer", org)
    client = Client()
    credentials = {"username": "new@example.com", "password": PASSWORD}

    signed_in = client.post("/admin/login/?next=/admin/audit/transition/", credentials)
    second_factor = signed_in["Location"]
    enrolment = client.get(second_factor).content.decode()
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    wrong = client.post(second_factor, {"otp_token": "123456" if totp_code(device) != "123456" else "654321"})
    with time_machine.travel(timezone.now() + timedelta(seconds=3)):
        confirmed = client.post(second_factor, {"otp_token": totp_code(device)})
        after = client.get("/admin/audit/transition/")

    assert second_factor == "/admin/second-factor/?next=%2Fadmin%2Faudit%2Ftransition%2F"
    assert 'class="backoffice-qr"' in enrolment and 'id="totp-secret"' in enrolment
    assert "That code is not right" in wrong.content.decode()
    assert confirmed.status_code == 200
    backup_codes = confirmed.context["backup_codes"]
    assert len(backup_codes) == 10
    assert after.status_code == 200

    # The next sign-in asks for a code (no key shown); a backup code works once.
    again = Client()
    again.post("/admin/login/", credentials)
    page = again.get("/admin/second-factor/").content.decode()
    used = again.post("/admin/second-factor/", {"otp_token": backup_codes[0]})
    reuse = Client()
    reuse.post("/admin/login/", credentials)
    with time_machine.travel(timezone.now() + timedelta(seconds=3)):
        refused = reuse.post("/admin/second-factor/", {"otp_token": backup_codes[0]})

    assert 'id="totp-secret"' not in page
    assert "backoffice-qr" not in page
    assert used.status_code == 302 and again.get("/admin/").status_code == 200
    assert refused.status_code == 200 and reuse.get("/admin/").status_code == 302


# --- Medium: 14-day staff sessions -----------------------------------------------------------


def test_a_staff_session_ends_after_30_idle_minutes(staff_client):
    with time_machine.travel("2026-12-01 09:00Z", tick=False) as clock:
        client = staff_client("viewer")
        assert client.get("/admin/").status_code == 200
        clock.shift(timedelta(minutes=29))
        assert client.get("/admin/").status_code == 200  # activity keeps it alive
        clock.shift(timedelta(minutes=29))
        assert client.get("/admin/").status_code == 200
        clock.shift(timedelta(minutes=31))
        ended = client.get("/admin/")

    assert ended.status_code == 302
    assert ended["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in client.session


def test_a_staff_session_ends_12_hours_after_sign_in_however_busy(staff_client):
    with time_machine.travel("2026-12-01 09:00Z", tick=False) as clock:
        client = staff_client("viewer")
        for _ in range(12 * 4 - 1):
            clock.shift(timedelta(minutes=15))
            assert client.get("/admin/").status_code == 200
        clock.shift(timedelta(minutes=16))
        ended = client.get("/admin/")

    assert ended.status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_persons_session_keeps_its_length(client):
    person = make_person("eva@example.com")
    with time_machine.travel("2026-12-01 09:00Z", tick=False) as clock:
        client.force_login(person)
        clock.shift(timedelta(days=3))
        assert client.get("/me/").status_code == 200


# --- Low: five wrong passwords locked any account for everyone --------------------------------


def test_wrong_passwords_from_one_address_do_not_lock_the_superuser_out_elsewhere(root, settings):
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(settings.LOGIN_MAX_ATTEMPTS):
        attacker.post("/admin/login/", {"username": "root@example.com", "password": "guess"})

    locked = attacker.post("/admin/login/", {"username": "root@example.com", "password": "root-pass-123"})
    owner = Client(REMOTE_ADDR="198.51.100.4").post(
        "/admin/login/", {"username": "root@example.com", "password": "root-pass-123"}
    )

    assert locked.status_code == 200
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert owner.status_code == 302
    assert owner["Location"].startswith("/admin/second-factor/")


def test_guessing_from_many_addresses_slows_the_account_down_for_a_while(root, settings):
    settings.LOGIN_ACCOUNT_BACKOFF_AFTER = 6
    with time_machine.travel("2026-12-01 09:00Z", tick=False) as clock:
        for n in range(6):
            Client(REMOTE_ADDR=f"203.0.113.{n}").post(
                "/admin/login/", {"username": "root@example.com", "password": "guess"}
            )
        held = Client(REMOTE_ADDR="198.51.100.4").post(
            "/admin/login/", {"username": "root@example.com", "password": "root-pass-123"}
        )
        clock.shift(timedelta(seconds=2))
        later = Client(REMOTE_ADDR="198.51.100.4").post(
            "/admin/login/", {"username": "root@example.com", "password": "root-pass-123"}
        )

    assert "Too many failed sign-in attempts" in held.content.decode()
    assert later.status_code == 302


def test_the_identity_page_shows_no_account_link(attacker, org, ana):
    identity = ana.identities.get(organization=org)
    page = attacker.get(f"/admin/identities/externalpersonalidentity/{identity.pk}/change/").content.decode()

    assert "linked account" in page
    assert str(ana.pk) not in page
    assert "/admin/people/user/" not in page


def test_an_administrator_cannot_rename_the_organizations_slug(attacker, org, other_org):
    response = attacker.post(
        f"/admin/organizations/organization/{org.pk}/change/", _org_form(org, slug=other_org.slug, name="Renamed")
    )

    org.refresh_from_db()
    assert response.status_code == 302
    assert (org.slug, org.name) == ("acme", "Renamed")


def test_the_migration_scrubs_existing_admin_log_rows(org):
    import importlib
    import json

    from django.apps import apps as live_apps
    from django.contrib.admin.models import CHANGE
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    scrub = importlib.import_module("apps.backoffice.migrations.0004_admin_log_without_personal_values").scrub
    staff = make_staff("old-entry@example.com", "operator", org)
    identity = make_identity(org, email="bea@example.com", first_name="Bea", last_name="Sol")
    kind = ContentType.objects.get_for_model(identity)
    message = json.dumps(
        [{"changed": {"fields": ["First name"]}}, {"added": {"name": "membership", "object": "bea@example.com @ acme"}}]
    )
    old = LogEntry.objects.create(
        user=staff,
        content_type=kind,
        object_id=str(identity.pk),
        object_repr="Bea Sol (INVITED)",
        action_flag=CHANGE,
        change_message=message,
    )
    plain = LogEntry.objects.create(
        user=staff,
        content_type=kind,
        object_id=str(identity.pk),
        object_repr="bea@example.com",
        action_flag=CHANGE,
        change_message="Invitation resent.",
    )

    scrub(live_apps, type("Editor", (), {"connection": connection})())

    old.refresh_from_db()
    plain.refresh_from_db()
    assert old.object_repr == f"externalpersonalidentity {identity.pk}"
    assert json.loads(old.change_message) == [
        {"changed": {"fields": ["First name"]}},
        {"added": {"name": "membership"}},
    ]
    assert (plain.object_repr, plain.change_message) == (
        f"externalpersonalidentity {identity.pk}",
        "Invitation resent.",
    )


def test_a_superuser_resets_a_lost_second_factor(org, root):
    from apps.backoffice.second_factor import second_factor_device

    staff = make_staff("lost-phone@example.com", "viewer", org)
    victim = staff_login(Client(), staff)
    assert victim.get("/admin/").status_code == 200

    staff_login(Client(), root).post(
        "/admin/people/user/", {"action": "reset_second_factor", "_selected_action": [str(staff.pk)]}
    )

    assert second_factor_device(user=staff) is None
    after = victim.get("/admin/")  # the session's device is gone: not verified any more
    assert after.status_code == 302 and after["Location"].startswith("/admin/second-factor/")

"""An attacker's probe of the back office after issue 15's staff-side fix.

Each finding is replayed as the attacker's steps (they failed before the fix in the same
commit); the boundaries that held and had no test yet follow. The attacker is staff of
`acme` (the `org` fixture); `globex` (`other_org`) is another organization; root is the
platform's superuser. Fixtures come from tests/backoffice/test_staff_boundaries.py.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from base64 import b32decode
from datetime import timedelta

import pytest
import time_machine
from django.contrib import admin
from django.db.models import CharField
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.activities.models import Activity, ActivityStatus, ActivityType
from apps.activities.services import activity_create
from apps.audit.services import Actor, transition_apply
from apps.backoffice.second_factor import second_factor_enrolment_confirm, second_factor_enrolment_start
from apps.core.crypto import lookup_hash, normalize_email
from apps.core.message_limits import LINK_MESSAGES_PER_DESTINATION, link_message_take
from apps.identifications.models import IdentificationStatus, OtpIdentification
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.identities.services import identity_activate
from apps.people.models import PersonalDetail
from apps.people.services import person_set_details
from apps.verifications.models import VerificationProcess
from tests.backoffice.conftest import AUDIT_INLINE, inline_management, make_identification, make_process, make_staff
from tests.backoffice.test_staff_boundaries import _share, administrator, ana, attacker, root  # noqa: F401 - fixtures
from tests.factories import make_identity, make_person, staff_login, totp_code, totp_code_for_key

pytestmark = pytest.mark.django_db

PASSWORD = "staff-pass-123"


def _pending_request(org, receptor: ExternalPersonalIdentity) -> Activity:
    desk = identity_activate(
        identity=make_identity(org, email="desk@example.com"), person=make_person("desk@example.com")
    )
    return activity_create(
        organization=org,
        type=ActivityType.REQUEST,
        initiator_id=desk.pk,
        receptor_id=receptor.pk,
        requirements=[{"detail": "first_name", "required": True}],
        valid_for=timedelta(days=7),
        actor=Actor.system("test"),
    )


# --- Finding 1 (high): an organization's administrator deleted audited objects ----------------
# The administrator role holds every delete permission of the project's apps, so the admin's
# delete page and its "delete selected" action removed an ACTIVE identity (unlinking its person
# from the organization without their act), a person's pending request, a verification process
# and an identification the API refuses to delete without the force scope: no transition, no
# audit row, no webhook.


@pytest.mark.parametrize("who", ["administrator", "superuser"])
def test_no_one_deletes_an_audited_object_in_the_back_office(who, attacker, org, ana, root):  # noqa: F811
    client = attacker if who == "administrator" else staff_login(Client(), root)
    identity = ana.identities.get(organization=org)  # ACTIVE, linked to Ana's account
    bea = identity_activate(identity=make_identity(org, email="bea@example.com"), person=make_person("bea@example.com"))
    request = _pending_request(org, bea)  # waiting for Bea's answer
    process = make_process(org)
    identification = transition_apply(make_identification(org), "start", actor=Actor.system("test"))
    targets = [
        ("/admin/identities/externalpersonalidentity/", identity),
        ("/admin/activities/activity/", request),
        ("/admin/verifications/verificationprocess/", process),
        ("/admin/identifications/otpidentification/", identification),
    ]

    for changelist, obj in targets:
        page = client.get(f"{changelist}{obj.pk}/delete/")
        post = client.post(f"{changelist}{obj.pk}/delete/", {"post": "yes"})
        bulk = client.post(changelist, {"action": "delete_selected", "_selected_action": [str(obj.pk)], "post": "yes"})
        listed = client.get(changelist).content.decode()

        assert (page.status_code, post.status_code) == (403, 403), changelist
        assert bulk.status_code in (200, 302), changelist  # no such action: the list again
        assert 'value="delete_selected"' not in listed, changelist

    assert ExternalPersonalIdentity.objects.get(pk=identity.pk).person_id == ana.pk
    assert Activity.objects.get(pk=request.pk).status == ActivityStatus.PENDING
    assert VerificationProcess.objects.filter(pk=process.pk).exists()
    assert OtpIdentification.objects.get(pk=identification.pk).status == IdentificationStatus.IN_PROGRESS
    assert ExternalPersonalIdentity.objects.get(pk=identity.pk).state == IdentityState.ACTIVE


# --- Finding 2 (medium): an enrolment key seen by one session was confirmed by another ---------
# The enrolment page showed every session the same unconfirmed authenticator, so whoever had
# the password opened it first, noted the key and left; the owner scanned the same QR code and
# confirmed it. The first one then held a working second factor for the account.


def _enrolment_key(client: Client) -> bytes:
    page = client.get("/admin/second-factor/").content.decode()
    return b32decode(re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", ""))


def test_a_key_shown_to_another_session_never_becomes_the_accounts_second_factor(org):
    make_staff("new@example.com", "viewer", org)
    credentials = {"username": "new@example.com", "password": PASSWORD}
    thief = Client(REMOTE_ADDR="203.0.113.9")
    thief.post("/admin/login/", credentials)
    stolen = _enrolment_key(thief)

    with time_machine.travel("2026-12-01 09:00Z", tick=False) as clock:
        owner = Client()
        owner.post("/admin/login/", credentials)
        key = _enrolment_key(owner)
        assert _enrolment_key(owner) == key  # a reload shows the same key
        confirmed = owner.post("/admin/second-factor/", {"otp_token": totp_code_for_key(key)})

        clock.shift(timedelta(minutes=2))
        later = Client(REMOTE_ADDR="203.0.113.9")
        later.post("/admin/login/", credentials)
        refused = later.post("/admin/second-factor/", {"otp_token": totp_code_for_key(stolen)})
        late_confirm = thief.post("/admin/second-factor/", {"otp_token": totp_code_for_key(stolen)})

        assert stolen != key
        assert confirmed.status_code == 200 and len(confirmed.context["backup_codes"]) == 10
        assert owner.get("/admin/").status_code == 200
        assert "That code is not right" in refused.content.decode()
        assert "totp-secret" not in late_confirm.content.decode()  # no enrolment over the owner's device
        assert later.get("/admin/").status_code == 302 and thief.get("/admin/").status_code == 302


def test_an_enrolment_never_adds_an_authenticator_beside_a_confirmed_one(org):
    staff = make_staff("racer@example.com", "viewer", org)
    pending = second_factor_enrolment_start(user=staff)
    # Another session of the account confirmed its own device in the meantime.
    TOTPDevice.objects.create(user=staff, name="Authenticator app", confirmed=True)

    assert second_factor_enrolment_confirm(user=staff, device_id=pending.pk, token=totp_code(pending)) is None
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).count() == 1


# --- Finding 3 (medium): an outsider kept any account locked for its owner --------------------
# Past LOGIN_ACCOUNT_BACKOFF_AFTER failures from anywhere, each further failure held the account
# for up to a minute for every address. Guesses refused during a hold are not counted, so one
# guess a minute (each from a new address, never reaching a per-address limit) kept the account,
# the superuser's included, held for everyone nearly all the time.


def test_guessing_from_everywhere_never_holds_the_owner_off_at_their_usual_address(root):  # noqa: F811
    right = {"username": "root@example.com", "password": "root-pass-123"}
    wrong = right | {"password": "guess"}
    addresses = (f"203.0.{n // 250}.{n % 250 + 1}" for n in range(10_000))
    refused = []
    with time_machine.travel("2026-12-01 09:00Z", tick=False) as clock:
        assert Client(REMOTE_ADDR="198.51.100.4").post("/admin/login/", right).status_code == 302
        # The outsider guesses every 5 seconds, each time from a new address, for half an hour;
        # the owner signs in from their usual address every 3 minutes.
        for second in range(0, 30 * 60, 5):
            Client(REMOTE_ADDR=next(addresses)).post("/admin/login/", wrong)
            if second % 180 == 120:
                clock.shift(timedelta(seconds=2))
                owner = Client(REMOTE_ADDR="198.51.100.4").post("/admin/login/", right)
                refused.append(owner.status_code != 302)
                clock.shift(timedelta(seconds=3))
            else:
                clock.shift(timedelta(seconds=5))

    assert len(refused) == 10
    assert not any(refused)


# --- Finding 4 (medium): account ids spelled out by filtering the audit log --------------------
# The audit log's search leaves the actor's id out for staff, but a changelist URL could still
# filter on it, or on the stored label "user <id>", by prefix: the count of rows told each next
# character of a person's (or the superuser's) account id. The same id filtered in another
# organization's back office would tell that the person is a customer there too.


def test_the_audit_log_cannot_be_filtered_by_an_account_id(staff_client, org, ana, root):  # noqa: F811
    _share(org, ana.identities.get(organization=org), ana, "first_name")  # Ana accepts acme's request
    account = str(ana.pk)
    probes = [
        {"actor_id": account},
        {"actor_id__startswith": account[0]},
        {"actor_id__in": account},
        {"actor_id__regex": "^[0-7]"},
        {"actor_label__startswith": f"user {account[:2]}"},
        {"actor_label__icontains": account[:8]},
    ]

    for role in ("viewer", "operator", "administrator"):
        client = staff_client(role)
        for probe in probes:
            assert client.get("/admin/audit/transition/", probe).status_code == 400, (role, probe)
        assert client.get("/admin/audit/transition/export-csv/", probes[1]).status_code in (400, 403), role
        searched = client.get("/admin/audit/transition/", {"q": account})
        assert searched.status_code == 200 and searched.context["cl"].result_count == 0, role

    superuser = staff_login(Client(), root).get("/admin/audit/transition/", {"actor_id": account})
    assert superuser.status_code == 200 and superuser.context["cl"].result_count >= 1


# --- Finding 5 (low): account pages told which account ids belong to one's organization -------
# Staff are refused every account page, but the history page and the object-action URL looked
# the account up in the organization's scope first: 403 for a customer or fellow member of the
# staff member's organization, 404 for anyone else. Given an account id, that told whether it
# was one of their organization's people.


@pytest.mark.parametrize("role", ["viewer", "operator", "administrator"])
def test_account_pages_answer_alike_for_every_account_id(staff_client, org, ana, root, role):  # noqa: F811
    client = staff_client(role)
    stranger = make_person("stranger@example.com")
    person_set_details(person=stranger, details={"first_name": "Sam"})
    accounts = [ana.pk, stranger.pk, root.pk, uuid.uuid4()]
    details = [PersonalDetail.objects.get(person=ana, name="first_name").pk, stranger.details.get().pk, 10**9]

    for suffix in ("change/", "history/", "delete/", "password/", "run/reset_second_factor/"):
        answers = {client.get(f"/admin/people/user/{pk}/{suffix}").status_code for pk in accounts}
        assert len(answers) == 1 and answers <= {403, 404}, (suffix, answers)
    for suffix in ("change/", "history/", "delete/", "run/x/"):
        answers = {client.get(f"/admin/people/personaldetail/{pk}/{suffix}").status_code for pk in details}
        assert len(answers) == 1 and answers <= {403, 404}, (suffix, answers)


# --- Finding 6 (low): a change form posted with any name as the transition was a server error ---
# django-fsm-2 looks the posted `_fsm_transition_to` up on the object before anything checks it:
# a method that is no transition ("delete") or no attribute at all answered 500.


@pytest.mark.parametrize("name", ["delete", "save", "no_such_thing", "__init__", "activate"])
def test_a_posted_name_that_is_no_transition_button_is_refused(staff_client, org, ana, name):  # noqa: F811
    identity = ana.identities.get(organization=org)
    client = staff_client("operator")
    form = {
        "email_address": identity.email_address,
        "first_name": identity.first_name,
        "last_name": identity.last_name,
        **inline_management(AUDIT_INLINE),
        "_fsm_transition_to": name,
    }

    response = client.post(f"/admin/identities/externalpersonalidentity/{identity.pk}/change/", form, follow=True)

    assert response.status_code == 200
    assert "That transition is not allowed here." in [str(m) for m in response.context["messages"]]
    after = ExternalPersonalIdentity.objects.get(pk=identity.pk)
    assert (after.state, after.person_id) == (IdentityState.ACTIVE, ana.pk)


# --- Finding 7 (low): an identity's email edited in the back office skipped the API's rules -----
# The change form saved the identity directly, not through identity_update: another identity's
# email was a server error (the unique constraint), and a corrected address of an INVITED
# identity got no new invitation (the API's PATCH sends one).


def _identity_form(identity: ExternalPersonalIdentity, **changes: str) -> dict[str, str]:
    return {
        "email_address": identity.email_address,
        "first_name": identity.first_name,
        "last_name": identity.last_name,
        **inline_management(AUDIT_INLINE),
        **changes,
    }


def test_an_identity_edited_in_the_back_office_follows_the_apis_rules(
    staff_client, org, mailoutbox, django_capture_on_commit_callbacks
):
    make_identity(org, email="taken@example.com")
    identity = make_identity(org, email="typo@exmaple.com")
    url = f"/admin/identities/externalpersonalidentity/{identity.pk}/change/"
    client = staff_client("operator")
    mailoutbox.clear()

    taken = client.post(url, _identity_form(identity, email_address="Taken@Example.com"))
    with django_capture_on_commit_callbacks(execute=True):
        corrected = client.post(url, _identity_form(identity, email_address="Right@Example.com"))

    assert taken.status_code == 200
    assert "Another identity of this organization has this email address." in taken.content.decode()
    assert corrected.status_code == 302
    assert ExternalPersonalIdentity.objects.get(pk=identity.pk).email_address == "right@example.com"
    assert [message.to for message in mailoutbox] == [["right@example.com"]]


def test_a_corrected_address_past_its_message_limits_is_refused_with_a_message(
    staff_client, org, mailoutbox, django_capture_on_commit_callbacks
):
    identity = make_identity(org, email="typo@exmaple.com")
    url = f"/admin/identities/externalpersonalidentity/{identity.pk}/change/"
    client = staff_client("operator")
    for _ in range(LINK_MESSAGES_PER_DESTINATION[0][0]):
        link_message_take(destination_key=lookup_hash(f"email:{normalize_email('right@example.com')}"))
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(url, _identity_form(identity, email_address="right@example.com"), follow=True)

    assert refused.status_code == 200
    assert "Too many messages were sent to this destination" in refused.content.decode()
    assert ExternalPersonalIdentity.objects.get(pk=identity.pk).email_address == "typo@exmaple.com"
    assert mailoutbox == []


# --- Finding 8 (low): crafted changelist input was a server error -----------------------------
# A NUL character in a filter value (PostgreSQL refuses it in text) and an action posted with a
# selected id that is no id at all (a UUID primary key refuses it) answered 500.

REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=[model._meta.label for model, _ in REGISTRY])
def test_crafted_changelist_input_is_a_clear_refusal(model, model_admin, org, root):  # noqa: F811
    client = staff_login(Client(), root)
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    pages = [changelist]
    with contextlib.suppress(NoReverseMatch):
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_export"))
    texts = [f.name for f in opts.concrete_fields if isinstance(f, CharField) and not f.is_relation]
    action_form = client.get(changelist).context["action_form"]
    actions = [name for name, _ in action_form.fields["action"].choices if name] if action_form else []

    for page in pages:
        for query in [{"q": "a\x00b"}, *({name: "a\x00b"} for name in texts)]:
            assert client.get(page, query).status_code in (200, 302, 400), (page, query)
    for action in actions:
        response = client.post(changelist, {"action": action, "_selected_action": ["not-an-id", "\x00"]})
        assert response.status_code in (200, 302, 400), action


# --- What held, where no test said so yet ------------------------------------------------------
# Staff never act for a person: a party's answers (accept, decline, complete), an identity's
# activation, a provider's result and a person's confirmation of a data transfer are no staff
# transition, whatever is posted and whoever posts it.


@pytest.mark.parametrize("who", ["operator", "administrator", "superuser"])
def test_no_staff_member_answers_or_confirms_for_a_person(who, staff_client, org, ana, root):  # noqa: F811
    from apps.transfers.models import SessionStatus, TransferSession
    from apps.transfers.services import session_create, session_retrieve

    client = staff_login(Client(), root) if who == "superuser" else staff_client(who)
    identity = ana.identities.get(organization=org)
    request = _pending_request(org, identity)
    invited = make_identity(org, email="invited@example.com")
    process = make_process(org)
    identification = transition_apply(make_identification(org), "start", actor=Actor.system("test"))
    transfer, _ = session_create(organization=org, scopes=["first_name"], actor=Actor.system("test"))
    session_retrieve(session=transfer, person=ana)
    audit = inline_management(AUDIT_INLINE)
    tries = [
        ("activities/activity", request, ("accept", "decline", "complete")),
        ("identities/externalpersonalidentity", invited, ("activate",)),
        ("verifications/verificationprocess", process, ("start", "finish", "fail")),
        ("identifications/otpidentification", identification, ("identify", "fail")),
    ]

    for path, obj, names in tries:
        for name in names:
            view = client.post(f"/admin/{path}/{obj.pk}/transition/{name}/", {"reason": "on their behalf"})
            assert view.status_code == 403, (path, name)
            client.post(f"/admin/{path}/{obj.pk}/change/", {**audit, "_fsm_transition_to": name})
    confirm = client.post(
        f"/admin/transfers/transfersession/{transfer.pk}/change/", {"status": "confirmed", "accepted_scopes": "[]"}
    )

    assert confirm.status_code == 403
    assert Activity.objects.get(pk=request.pk).status == ActivityStatus.PENDING
    assert ExternalPersonalIdentity.objects.get(pk=invited.pk).state == IdentityState.INVITED
    assert VerificationProcess.objects.get(pk=process.pk).status == "pending"
    assert OtpIdentification.objects.get(pk=identification.pk).status == IdentificationStatus.IN_PROGRESS
    assert TransferSession.objects.get(pk=transfer.pk).status == SessionStatus.RETRIEVED


def _signed_in_with_password(email: str, **client_args: str) -> Client:
    client = Client(**client_args)
    client.post("/admin/login/", {"username": email, "password": PASSWORD})
    return client


def test_a_totp_code_signs_in_once(org):
    staff = make_staff("once@example.com", "viewer", org)
    device = TOTPDevice.objects.create(user=staff, name="Authenticator app", confirmed=True)
    with time_machine.travel("2026-12-01 09:00:10Z", tick=False):
        code = totp_code_for_key(device.bin_key)
        first = _signed_in_with_password("once@example.com")
        shoulder = _signed_in_with_password("once@example.com", REMOTE_ADDR="203.0.113.9")
        used = first.post("/admin/second-factor/", {"otp_token": code})
        replayed = shoulder.post("/admin/second-factor/", {"otp_token": code})

        assert used.status_code == 302 and first.get("/admin/").status_code == 200
        assert replayed.status_code == 200 and shoulder.get("/admin/").status_code == 302


def test_wrong_codes_hold_the_device_off_before_the_right_one_counts(org):
    staff = make_staff("guessed@example.com", "viewer", org)
    device = TOTPDevice.objects.create(user=staff, name="Authenticator app", confirmed=True)
    with time_machine.travel("2026-12-01 09:00:10Z", tick=False):
        guesser = _signed_in_with_password("guessed@example.com")
        right = totp_code_for_key(device.bin_key)
        for guess in ("000000", "111111", "222222"):
            guesser.post("/admin/second-factor/", {"otp_token": guess if guess != right else "333333"})
        held = guesser.post("/admin/second-factor/", {"otp_token": right})

    assert "Too many wrong codes: wait" in held.content.decode()
    assert guesser.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/admin/", "/\\evil.example", "javascript:alert(1)"]
)
def test_the_second_factor_sends_nobody_to_another_site(org, target):
    staff = make_staff("next@example.com", "viewer", org)
    device = TOTPDevice.objects.create(user=staff, name="Authenticator app", confirmed=True)
    client = Client()

    signed_in = client.post(f"/admin/login/?next={target}", {"username": "next@example.com", "password": PASSWORD})
    passed = client.post("/admin/second-factor/", {"otp_token": totp_code(device), "next": target})

    assert signed_in["Location"] == "/admin/second-factor/?next=%2Fadmin%2F"
    assert passed.status_code == 302 and passed["Location"] == "/admin/"


def test_passing_the_second_factor_gives_a_new_session_key(org):
    staff = make_staff("fixed@example.com", "viewer", org)
    device = TOTPDevice.objects.create(user=staff, name="Authenticator app", confirmed=True)
    owner = _signed_in_with_password("fixed@example.com")
    known = owner.cookies["sessionid"].value  # say, read over a shoulder before the code is given

    owner.post("/admin/second-factor/", {"otp_token": totp_code(device)})
    planted = Client()
    planted.cookies["sessionid"] = known

    assert owner.cookies["sessionid"].value != known
    assert owner.get("/admin/").status_code == 200
    assert planted.get("/admin/").status_code == 302


def test_a_person_who_is_not_staff_reaches_no_admin_page(org, ana):  # noqa: F811
    person = Client()
    person.force_login(ana)
    refused = person.post("/admin/login/", {"username": "ana@example.com", "password": "correct-horse-9"})

    for url in ("/admin/", "/admin/second-factor/", "/admin/dashboard/", "/admin/audit/transition/export-csv/"):
        response = person.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    assert "for a staff account" in refused.content.decode()
    assert not TOTPDevice.objects.filter(user=ana).exists()
    anonymous = Client().get("/admin/second-factor/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")


def test_a_deactivated_staff_member_loses_a_live_session(org):
    staff = make_staff("gone@example.com", "operator", org)
    client = staff_login(Client(), staff)
    assert client.get("/admin/").status_code == 200

    staff.is_active = False
    staff.save(update_fields=["is_active"])

    response = client.get("/admin/audit/transition/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_a_removed_membership_ends_access_on_the_next_request(org):
    from apps.organizations.models import Membership

    staff = make_staff("leaver@example.com", "operator", org)
    identity = make_identity(org, email="bea@example.com")
    client = staff_login(Client(), staff)
    page = f"/admin/identities/externalpersonalidentity/{identity.pk}/change/"
    assert client.get(page).status_code == 200

    Membership.objects.filter(user=staff).delete()

    assert client.get(page).status_code == 404
    assert client.get("/admin/identities/externalpersonalidentity/").context["cl"].result_count == 0


def test_the_view_on_site_shortcut_answers_alike_for_any_object(attacker, org, other_org, ana, root):  # noqa: F811
    from django.contrib.contenttypes.models import ContentType

    from apps.people.models import User

    # Django's shortcut looks any object up unscoped; it says nothing while no model has a page.
    identities = ContentType.objects.get_for_model(ExternalPersonalIdentity).pk
    accounts = ContentType.objects.get_for_model(User).pk
    urls = [
        f"/admin/r/{identities}/{ana.identities.get(organization=other_org).pk}/",
        f"/admin/r/{identities}/{ana.identities.get(organization=org).pk}/",
        f"/admin/r/{identities}/{uuid.uuid4()}/",
        f"/admin/r/{accounts}/{root.pk}/",
        f"/admin/r/{accounts}/{uuid.uuid4()}/",
        "/admin/r/999999/1/",
    ]

    # The 404 page's language form carries a CSRF token masked anew for every response.
    answers = {
        (r.status_code, re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", r.content))
        for r in (attacker.get(url) for url in urls)
    }
    assert len(answers) == 1 and next(iter(answers))[0] == 404


@pytest.mark.parametrize("to_field", ["email_hash", "person", "organization", "first_name"])
def test_a_popup_cannot_name_a_field_no_relation_points_at(attacker, to_field):  # noqa: F811
    changelist = "/admin/identities/externalpersonalidentity/"
    assert attacker.get(changelist, {"_popup": "1", "_to_field": to_field}).status_code == 400

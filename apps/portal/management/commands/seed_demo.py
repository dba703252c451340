"""`seed_demo`: a demo organization, a staff account, people and identities in every state.

Idempotent: objects that already exist are left exactly as they are, so a second run
changes nothing. Everything is written through the services, so the audit log is complete.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.activities.models import Activity, ActivityType
from apps.activities.services import activity_create
from apps.audit import reasons
from apps.audit.services import Actor, transition_apply
from apps.backoffice.second_factor import second_factor_base32, second_factor_demo_enrol
from apps.core.crypto import lookup_hash, normalize_email
from apps.identifications.links import identification_url
from apps.identifications.models import OPEN_STATUSES as IDENTIFICATION_OPEN
from apps.identifications.models import OtpIdentification
from apps.identifications.services import ActorData, identification_create
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.identities.services import identity_activate, identity_create
from apps.organizations.models import ApiKey, Membership, Organization
from apps.organizations.services import api_key_create, organization_create
from apps.people.models import User
from apps.people.services import person_create
from apps.transfers.services import session_create
from apps.verifications.links import process_url
from apps.verifications.models import OPEN_STATUSES as PROCESS_OPEN
from apps.verifications.models import VerificationProcess
from apps.verifications.sandbox import sandbox_callback, sandbox_samples
from apps.verifications.services import process_apply_provider_result, process_create, process_replay_sample
from apps.webhooks.demo_receiver import demo_receiver_url
from apps.webhooks.endpoints import endpoint_create
from apps.webhooks.events import EVENT_TYPES, PING
from apps.webhooks.models import WebhookEndpoint

ORG_SLUG = "demo"
ORG_NAME = "Demo Bank"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "demo-admin-pass"  # noqa: S105 - public demo credentials, printed on purpose
PERSON_PASSWORD = "demo-person-pass"  # noqa: S105
API_KEY_NAME = "demo"
# Back-office staff of the demo organization, one per role (the groups of apps/backoffice).
STAFF: tuple[tuple[str, str], ...] = (
    ("viewer@example.com", "viewer"),
    ("operator@example.com", "operator"),
    ("administrator@example.com", "administrator"),
)

# People who sign in to the portal, with their self-declared details.
PEOPLE: dict[str, dict[str, str]] = {
    "ana@example.com": {
        "first_name": "Ana",
        "last_name": "García",
        "email": "ana@example.com",
        "phone": "+34600000001",
        "date_of_birth": "1990-04-12",
        "place_of_birth": "Sevilla",
        "nationality": "ESP",
        "gender": "F",
        "address": "Calle Mayor 1, 28013 Madrid",
    },
    "olivia@example.com": {
        "first_name": "Olivia",
        "last_name": "Ortiz",
        "email": "olivia@example.com",
        "phone": "+34600000002",
    },
    "bram@example.com": {
        "first_name": "Bram",
        "last_name": "de Vries",
        "date_of_birth": "1985-11-30",
        "nationality": "NLD",
    },
}

# (email, first name, last name, managed, target state, the person who activated it)
IDENTITIES: tuple[tuple[str, str, str, bool, str, str | None], ...] = (
    ("carla@example.com", "Carla", "Rossi", False, IdentityState.INVITED, None),
    # The bank's advisor, operated by the platform: she sends the demo consent requests.
    ("olivia@example.com", "Olivia", "Ortiz", True, IdentityState.ACTIVE, "olivia@example.com"),
    ("ana@example.com", "Ana", "García", True, IdentityState.ACTIVE, "ana@example.com"),
    ("bram@example.com", "Bram", "de Vries", False, IdentityState.DEACTIVATED, "bram@example.com"),
)


# (provider, seed example replayed) — an empty example leaves a sandbox process pending to try.
DEMO_PROCESSES: tuple[tuple[str, str], ...] = (
    ("onfido", "accepted"),
    ("eid", "rejected"),
    ("facetec", "inconclusive"),
    ("signicatpaper", "failed"),
    ("sandbox", ""),
)


# Ana's own passport, read by Onfido: what her page shows after a verification. Values equal to
# hers (first name, date of birth, gender, nationality) become verified; a different last name and
# the document's details, which she does not have yet, wait as proposed updates for her to confirm.
# Nothing of hers is replaced without her act.
ANA_PASSPORT: dict[str, str] = {
    "firstName": "ANA",
    "lastName": "GARCIA MORENO",
    "dateOfBirth": "1990-04-12",
    "gender": "F",
    "nationality": "ESP",
    "documentType": "passport",
    "documentNumber": "PAB123456",
    "issuingCountry": "ESP",
    "dateOfExpiry": "2031-04-11",
}


DEMO_ACTIVITIES: tuple[dict[str, Any], ...] = (
    {
        "type": ActivityType.REQUEST,
        "purpose": "Open a savings account",
        "requirements": [
            {"detail": "first_name", "required": True},
            {"detail": "last_name", "required": True},
            {"detail": "date_of_birth", "required": False},
            {"detail": "nationality", "required": False},
        ],
    },
    {
        "type": ActivityType.SHARE,
        "purpose": "Your personal advisor's contact details",
        "offered_details": ["first_name", "last_name", "email", "phone"],
        "sharing_period": timedelta(days=365),
    },
    {
        "type": ActivityType.AUTHORIZATION,
        "purpose": "Confirm a transfer",
        "authorization": {"description": "Transfer 2,500.00 EUR to NL91 ABNA 0417 1643 00", "requires_bioface": True},
    },
)


class Command(BaseCommand):
    help = "Fill a demo organization, people, identities, verification processes, consent activities and an OTP identification, and print how to sign in."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            organization = self._organization()
            admin = self._admin(organization)
            for email, role in STAFF:
                self._staff(organization, email, role)
            people = {email: self._person(email, details) for email, details in PEOPLE.items()}
            for spec in IDENTITIES:
                self._identity(organization, spec, people=people, admin=admin)
            self._processes(organization)
            self._activities(organization)
            self._identifications(organization)
            raw_key = self._api_key(organization)
            self._webhook_receiver(organization)
            display_url = self._session(organization)
        self._print_sign_in(raw_key)
        self.stdout.write(
            "  Data-transfer session (a new one each run; the page renews it when it expires):\n"
            f"    {display_url}\n"
            "    Open it on the desktop, then its QR's link on a phone or a second browser signed in as ana."
        )
        self._print_links(organization)

    def _webhook_receiver(self, organization: Organization) -> None:
        """The demo's own receiver as the organization's endpoint for every event, so each
        state change the demo makes is delivered, signed, by the worker (make run only)."""
        if not settings.DEMO_WEBHOOK_RECEIVER:
            return
        url = demo_receiver_url()
        if WebhookEndpoint.objects.filter(organization=organization, url=url).exists():
            return
        endpoint_create(
            organization=organization,
            url=url,
            events=[event for event in EVENT_TYPES if event != PING],
            description="The demo's webhook receiver (var/demo-webhooks.log)",
        )
        self.stdout.write(f"Registered the demo webhook receiver {url}.")

    def _print_links(self, organization: Organization) -> None:
        """The pages the demo's email and provider would send people to (signed links, the same
        on every run): Dora's OTP identification and the sandbox process left open to try."""
        lines = []
        identification = (
            OtpIdentification.objects.filter(organization=organization, status__in=IDENTIFICATION_OPEN)
            .order_by("created_at")
            .first()
        )
        if identification is not None:
            lines += [
                "  OTP identification of dora@example.com (the link an organization sends her; the page emails",
                "  her a code, which the console email backend prints here; second factor: document X1234567):",
                f"    {identification_url(identification)}",
            ]
        sandbox = (
            VerificationProcess.objects.filter(organization=organization, provider="sandbox", status__in=PROCESS_OPEN)
            .order_by("created_at")
            .first()
        )
        if sandbox is not None:
            lines += [
                "  Sandbox verification process (choose an outcome as a provider would report it):",
                f"    {process_url(sandbox)}",
            ]
        if settings.DEMO_WEBHOOK_RECEIVER:
            lines += [
                "  Webhooks: every state change is delivered, signed, to the demo receiver",
                f"    {demo_receiver_url()}  (one line per delivery in {settings.DEMO_WEBHOOK_LOG})",
            ]
        if lines:
            self.stdout.write("\n".join(lines))

    def _organization(self) -> Organization:
        organization = Organization.objects.filter(slug=ORG_SLUG).first()
        if organization is None:
            organization = organization_create(slug=ORG_SLUG, name=ORG_NAME)
            self.stdout.write(f"Created organization {ORG_SLUG} ({ORG_NAME}).")
        return organization

    def _admin(self, organization: Organization) -> User:
        admin = User.objects.filter_by_email(ADMIN_EMAIL).first()
        if admin is None:
            admin = person_create(email=ADMIN_EMAIL, password=ADMIN_PASSWORD, check_password=False)
            admin.is_staff = admin.is_superuser = True
            admin.save(update_fields=["is_staff", "is_superuser"])
            self.stdout.write(f"Created superuser {ADMIN_EMAIL}.")
        Membership.objects.get_or_create(organization=organization, user=admin)
        second_factor_demo_enrol(user=admin)
        return admin

    def _staff(self, organization: Organization, email: str, role: str) -> None:
        user = User.objects.filter_by_email(email).first()
        if user is None:
            user = person_create(email=email, password=ADMIN_PASSWORD, check_password=False)
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            user.groups.add(Group.objects.get(name=role))
            self.stdout.write(f"Created {role} {email} (back office, {organization.slug} only).")
        Membership.objects.get_or_create(organization=organization, user=user)
        second_factor_demo_enrol(user=user)

    def _person(self, email: str, details: dict[str, str]) -> User:
        person = User.objects.filter_by_email(email).first()
        if person is None:
            person = person_create(email=email, password=PERSON_PASSWORD, details=details, check_password=False)
            self.stdout.write(f"Created person {email} with {len(details)} self-declared details.")
        return person

    def _identity(
        self,
        organization: Organization,
        spec: tuple[str, str, str, bool, str, str | None],
        *,
        people: dict[str, User],
        admin: User,
    ) -> None:
        email, first_name, last_name, managed, target, person_email = spec
        exists = ExternalPersonalIdentity.objects.filter(
            organization=organization, email_hash=lookup_hash(normalize_email(email))
        ).exists()
        if exists:
            # Left as it is: someone may be trying the demo with it.
            return
        identity = identity_create(
            organization=organization,
            email_address=email,
            first_name=first_name,
            last_name=last_name,
            managed=managed,
            actor=Actor.system("seed_demo"),
        )
        if target in (IdentityState.ACTIVE, IdentityState.DEACTIVATED) and person_email:
            identity = identity_activate(identity=identity, person=people[person_email])
        if target == IdentityState.DEACTIVATED:
            identity = transition_apply(identity, "deactivate", actor=Actor.user(admin), reason=reasons.DEMO_DATA)
        self.stdout.write(f"Created identity {email} of {organization.slug}: {identity.state}.")

    def _processes(self, organization: Organization) -> None:
        """Verification processes in several states, replayed from the seed's provider examples."""
        if VerificationProcess.objects.filter(organization=organization).exists():
            return
        for provider, sample in DEMO_PROCESSES:
            process_type = sandbox_callback(provider, sample)[3] if sample else None
            process = process_create(
                organization=organization,
                provider=provider if sample else "sandbox",
                process_type=process_type,
                # Not linked to a demo person: the seed's example document is someone else's.
                identity=None,
                actor=Actor.system("seed_demo"),
            )
            if sample:
                process = process_replay_sample(
                    process=process, provider=provider, sample=sample, actor=Actor.provider(provider)
                )
            self.stdout.write(f"Created verification process {process.provider}: {process.status}.")
        self._ana_verification(organization)

    def _ana_verification(self, organization: Organization) -> None:
        """Ana's passport check, replayed as Onfido would report it, with her own data."""
        identity = ExternalPersonalIdentity.objects.get(
            organization=organization, email_hash=lookup_hash("ana@example.com")
        )
        sample = copy.deepcopy(sandbox_samples()["onfido"]["accepted"]["providerSpecific"])
        document = sample["documentVerification"]
        for line in ("mrzLine1", "mrzLine2"):
            document.pop(line, None)  # the seed's lines are someone else's passport
        document.update(ANA_PASSPORT)
        process = process_create(
            organization=organization,
            provider="onfido",
            process_type="documentSelfie",
            identity=identity,
            actor=Actor.system("seed_demo"),
        )
        onfido = Actor.provider("onfido")
        process_apply_provider_result(process=process, event="started", actor=onfido)
        process = process_apply_provider_result(
            process=process, event="finished", provider_specific=sample, actor=onfido
        )
        self.stdout.write(
            f"Created Ana's verification process onfido: {process.status} (updates proposed on her page)."
        )

    def _activities(self, organization: Organization) -> None:
        """Consent activities waiting for Ana (request, authorization) and one shared with her."""
        if Activity.objects.filter(organization=organization).exists():
            return
        identities = {
            email: ExternalPersonalIdentity.objects.get(organization=organization, email_hash=lookup_hash(email))
            for email in ("olivia@example.com", "ana@example.com")
        }
        initiator_id, receptor_id = identities["olivia@example.com"].pk, identities["ana@example.com"].pk
        actor = Actor.system("seed_demo")
        for spec in DEMO_ACTIVITIES:
            activity = activity_create(
                organization=organization, actor=actor, initiator_id=initiator_id, receptor_id=receptor_id, **spec
            )
            self.stdout.write(f"Created activity {activity.type} for ana: {activity.status_for('receptor')}.")

    def _identifications(self, organization: Organization) -> None:
        if OtpIdentification.objects.filter(organization=organization).exists():
            return
        identification = identification_create(
            organization=organization,
            actor_data=ActorData(name="Dora", surname="Díaz", email="dora@example.com", document_number="X1234567"),
            channel="EMAIL",
            two_factor_type="DOCUMENT_NUMBER",
            expires_in=timedelta(days=30),
            actor=Actor.system("seed_demo"),
        )
        self.stdout.write(f"Created OTP identification for dora@example.com: {identification.status}.")

    def _session(self, organization: Organization) -> str:
        """A fresh session on every run: its token is shown once, so an old one cannot be reprinted."""
        session, token = session_create(
            organization=organization,
            scopes=["first_name", "last_name", "date_of_birth"],
            vendor_data="seed_demo",
            actor=Actor.system("seed_demo"),
        )
        return f"{settings.PUBLIC_BASE_URL}/session/{session.pk}/display?token={token}"

    def _api_key(self, organization: Organization) -> str | None:
        if ApiKey.objects.filter(organization=organization, name=API_KEY_NAME).exists():
            return None
        _, raw = api_key_create(organization=organization, name=API_KEY_NAME)
        return raw

    @staticmethod
    def _totp_key(email: str) -> str:
        user = User.objects.filter_by_email(email).get()
        return second_factor_base32(second_factor_demo_enrol(user=user))

    def _print_sign_in(self, raw_key: str | None) -> None:
        base = settings.PUBLIC_BASE_URL
        lines = [
            "",
            f"Demo organization: {ORG_SLUG} ({ORG_NAME})",
            f"  Portal sign-in:  {base}/accounts/login/",
            *(f"    {email} / {PERSON_PASSWORD}" for email in PEOPLE),
            f"  Back office:     {base}/admin/   (then a code from an authenticator app with the key shown,",
            "                   or: python manage.py staff_totp <email>)",
            f"    {ADMIN_EMAIL} / {ADMIN_PASSWORD}   (superuser)   TOTP key {self._totp_key(ADMIN_EMAIL)}",
            *(f"    {email} / {ADMIN_PASSWORD}   ({role})   TOTP key {self._totp_key(email)}" for email, role in STAFF),
            f"  API docs:        {base}/api/docs/   (organization paths: /api/v1/orgs/{ORG_SLUG}/...)",
        ]
        if raw_key:
            lines += [
                "  Demo API key (shown only this once; keep it):",
                f"    {raw_key}",
            ]
        else:
            lines += [
                "  API key: the demo key was printed on the first run and cannot be shown again.",
                f"    A new one: python manage.py create_api_key {ORG_SLUG}",
            ]
        lines += self._provider_lines(base)
        self.stdout.write("\n".join(lines))

    def _provider_lines(self, base: str) -> list[str]:
        """How to connect a real Onfido sandbox account and a real OpenID Connect provider
        (API.md "Provider connections"; README "Real providers")."""
        providers = f"{base}/api/v1/orgs/{ORG_SLUG}/providers"
        return [
            "  Real providers (docs/providers.md); KEY = the demo API key:",
            "    Onfido sandbox: in Onfido's dashboard make a sandbox API token and a Studio workflow,",
            f"      and a webhook to {base}/api/v1/providers/onfido/webhook/{ORG_SLUG} (event workflow_run.completed);",
            f"      curl -X PUT {providers}/onfido -H 'Authorization: Bearer KEY' -H 'Content-Type: application/json' \\",
            """        -d '{"api_token": "api_sandbox...", "webhook_token": "...", "workflow_id": "..."}'""",
            """      then POST /processes {"provider": "onfido", "processType": "documentSelfie"}: its url is Onfido's.""",
            "    OpenID Connect: register a client at the provider with the redirect URI",
            f"      {base}/verify/connect/callback (code flow; PKCE S256 is always used);",
            f"      curl -X PUT {providers}/connect -H 'Authorization: Bearer KEY' -H 'Content-Type: application/json' \\",
            """        -d '{"issuer": "https://accounts.example.com", "client_id": "...", "client_secret": "..."}'""",
            """      then POST /processes {"provider": "connect"}: its url is the provider's sign-in.""",
        ]

"""Writes for external personal identities (seed 002)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from apps.audit import reasons
from apps.audit.errors import StateConflict
from apps.audit.services import Actor, transition_apply, transition_record
from apps.core.crypto import lookup_hash, normalize_email
from apps.core.message_limits import link_message_take
from apps.core.task_queue import enqueue
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.identities.selectors import identity_email_taken
from apps.identities.tokens import invitation_token_make
from apps.organizations.models import Organization
from apps.people.models import User

logger = logging.getLogger(__name__)

# The only state changes an integrator may ask for (seed 002); everything else is 409.
_STATE_CHANGES = {
    (IdentityState.ACTIVE, IdentityState.DEACTIVATED): "deactivate",
    (IdentityState.DEACTIVATED, IdentityState.ACTIVE): "reactivate",
}


class DuplicateIdentity(StateConflict):
    """Another identity of the organization already has this email address."""


def _invitation_take(email: str) -> None:
    """Count one invitation email against its address's message limits (shared with the OTP
    identification links: the same inbox); LimitExceeded (429) past them, before any change."""
    link_message_take(destination_key=lookup_hash(f"email:{normalize_email(email)}"))


def _enqueue_invitation(identity: ExternalPersonalIdentity) -> None:
    def queue() -> None:
        try:
            enqueue("apps.identities.tasks.send_invitation", args=[str(identity.pk)])
        except Exception:  # a broker outage must not fail the request: the beat sweep sends it
            logger.warning("Could not queue the invitation of %s; the sweep will send it", identity.pk, exc_info=True)

    transaction.on_commit(queue)


def identity_create(
    *, organization: Organization, email_address: str, first_name: str, last_name: str, managed: bool, actor: Actor
) -> ExternalPersonalIdentity:
    """Create an INVITED identity and email the person an invitation link; past the address's
    message limits (LimitExceeded → 429) nothing is created."""
    if identity_email_taken(organization=organization, email=email_address):
        raise DuplicateIdentity("An identity with this email address already exists in this organization.")
    _invitation_take(email_address)
    try:
        with transaction.atomic():
            identity = ExternalPersonalIdentity.objects.create(
                organization=organization,
                email_address=email_address,
                first_name=first_name,
                last_name=last_name,
                managed=managed,
            )
            transition_record(
                subject=identity, from_state="", to_state=identity.state, actor=actor, reason=reasons.CREATED
            )
            _enqueue_invitation(identity)
    except IntegrityError:  # lost a race with a concurrent create of the same email
        raise DuplicateIdentity("An identity with this email address already exists in this organization.") from None
    return identity


def identity_update(
    *, identity: ExternalPersonalIdentity, data: dict[str, Any], actor: Actor
) -> ExternalPersonalIdentity:
    """Apply a PATCH: names and email change freely, state only ACTIVE ↔ DEACTIVATED, managed never."""
    if "managed" in data and data["managed"] != identity.managed:
        raise ValidationError({"managed": ["managed cannot be changed after the identity is created."]})
    with transaction.atomic():
        locked = ExternalPersonalIdentity.objects.select_for_update().get(pk=identity.pk)
        target = data.get("state")
        if target is not None and target != locked.state:
            transition = _STATE_CHANGES.get((locked.state, target))
            if transition is None:
                raise StateConflict(f"The state cannot change from {locked.state} to {target}.")
            locked = transition_apply(locked, transition, actor=actor)
        fields = {k: data[k] for k in ("email_address", "first_name", "last_name") if k in data}
        email_changed = "email_address" in fields and normalize_email(fields["email_address"]) != locked.email_address
        if email_changed and identity_email_taken(
            organization=locked.organization, email=fields["email_address"], exclude_id=locked.pk
        ):
            raise DuplicateIdentity("An identity with this email address already exists in this organization.")
        if email_changed and locked.state == IdentityState.INVITED:
            # Raised inside the transaction: past the limits the new email is not saved either.
            _invitation_take(fields["email_address"])
        if fields:
            for name, value in fields.items():
                setattr(locked, name, value)
            locked.save(update_fields=[*fields, "email_hash", "updated_at"])
        if email_changed and locked.state == IdentityState.INVITED:
            # The old link was sent to the old address; a new one goes to the new address.
            _enqueue_invitation(locked)
    return locked


def identity_resend_invitation(*, identity: ExternalPersonalIdentity, actor: Actor, reason: str = "") -> None:
    """Send a new invitation link (the previous one stops working). 409 unless INVITED; past the
    address's message limits LimitExceeded (429) and nothing is sent. With a `reason` (staff give
    one) the resend is written to the audit trail; it is no state change, so no event."""
    refusal = identity_invitation_refusal(identity)
    if refusal is not None:
        raise StateConflict(refusal)
    _invitation_take(identity.email_address)
    _enqueue_invitation(identity)
    if reason:
        transition_record(
            subject=identity,
            from_state=identity.state,
            to_state=identity.state,
            actor=actor,
            reason=reason,
            event_type="identity.invitation_resent",
            publish=False,
        )


def identity_invitation_refusal(identity: ExternalPersonalIdentity) -> str | None:
    """Why `identity` gets no new invitation (a sentence), or None when it may get one."""
    if identity.state == IdentityState.ACTIVE:
        return gettext("This invitation was already accepted: the identity is active.")
    if identity.state == IdentityState.DEACTIVATED:
        return gettext("This identity is deactivated: it gets no invitation.")
    return None


def identity_send_invitation(*, identity_id: Any, only_unsent: bool = False) -> bool:
    """Email the invitation link now. Returns False when the identity no longer needs one.

    only_unsent: send only if no invitation went out yet (the sweep's catch-up).
    """
    with transaction.atomic():
        identity = (
            ExternalPersonalIdentity.objects.select_for_update()
            .select_related("organization")
            .filter(pk=identity_id)
            .first()
        )
        if identity is None or identity.state != IdentityState.INVITED:
            return False
        if only_unsent and identity.invitation_sent_at is not None:
            return False
        identity.invitation_sent_at = timezone.now()
        identity.invitation_count += 1
        identity.save(update_fields=["invitation_sent_at", "invitation_count", "email_hash", "updated_at"])
    token = invitation_token_make(identity)
    link = settings.PUBLIC_BASE_URL + reverse("identities:invitation", args=[identity.pk, token])
    context = {
        "identity": identity,
        "organization": identity.organization,
        "link": link,
        "valid_days": max(1, settings.INVITATION_TTL_SECONDS // 86400),
    }
    send_mail(
        subject=f"{identity.organization.name} invites you to activate your identity",
        message=render_to_string("identities/email/invitation.txt", context),
        from_email=None,
        recipient_list=[identity.email_address],
        html_message=render_to_string("identities/email/invitation.html", context),
    )
    return True


def identities_send_unsent_invitations(*, older_than: timedelta = timedelta(minutes=1), batch_size: int = 100) -> int:
    """Beat sweep: an invitation whose task was never queued (broker outage) goes out late, not never."""
    cutoff = timezone.now() - older_than
    pending = ExternalPersonalIdentity.objects.filter(
        state=IdentityState.INVITED, invitation_sent_at__isnull=True, created_at__lte=cutoff
    ).values_list("pk", flat=True)[:batch_size]
    return sum(identity_send_invitation(identity_id=pk, only_unsent=True) for pk in list(pending))


def identity_activate(*, identity: ExternalPersonalIdentity, person: User) -> ExternalPersonalIdentity:
    """The person accepted the invitation: INVITED → ACTIVE, linked to their account."""
    return transition_apply(
        identity, "activate", actor=Actor.user(person), reason=reasons.INVITATION_ACCEPTED, person=person
    )


def identity_transition_by_staff(
    *, identity: ExternalPersonalIdentity, transition: str, user: User, reason: str = ""
) -> ExternalPersonalIdentity:
    return transition_apply(
        identity, transition, actor=Actor.user(user), reason=reason or reasons.CHANGED_IN_BACK_OFFICE
    )


def identities_forget_person(*, person: User, actor: Actor) -> dict[str, int]:
    """A person's account is being deleted (apps.portal.services.person_delete): their active
    identities are deactivated (audited, emitted) and every identity of theirs is unlinked."""
    deactivated = 0
    for identity in ExternalPersonalIdentity.objects.filter(person=person):
        if identity.state == IdentityState.ACTIVE:
            transition_apply(identity, "deactivate", actor=actor, reason=reasons.ACCOUNT_DELETED)
            deactivated += 1
    ExternalPersonalIdentity.objects.filter(person=person).update(person=None)
    return {"identities": deactivated}

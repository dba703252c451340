"""Writes for people and their personal details."""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.people.models import DetailSource, PersonalDetail, User
from apps.people.vocabulary import clean_detail


def _clean_details(details: Mapping[str, str]) -> dict[str, str]:
    cleaned, errors = {}, {}
    for name, value in details.items():
        if value is None or value == "":
            continue
        try:
            cleaned[name] = clean_detail(name, value)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def person_create(
    *, email: str, password: str | None, details: Mapping[str, str] | None = None, check_password: bool = True
) -> User:
    """Create an end-user account with self-declared personal details."""
    user = User(email=email)
    user.full_clean(exclude=["password", "email_hash"])
    if User.objects.filter_by_email(email).exists():
        raise ValidationError({"email": ["An account with this email already exists."]})
    if password and check_password:
        validate_password(password, user)
    cleaned = _clean_details(details or {})
    with transaction.atomic():
        user.set_password(password)
        user.save()
        person_set_details(person=user, details=cleaned)
    return user


def person_set_details(
    *,
    person: User,
    details: Mapping[str, str],
    source: str = DetailSource.SELF_DECLARED,
    process_id: str | None = None,
    provider: str = "",
) -> list[PersonalDetail]:
    """Create or replace values; a self-declared value never overwrites a verified one."""
    cleaned = _clean_details(details)
    saved = []
    with transaction.atomic():
        existing = {
            d.name: d for d in PersonalDetail.objects.select_for_update().filter(person=person, name__in=cleaned)
        }
        for name, value in cleaned.items():
            detail = existing.get(name) or PersonalDetail(person=person, name=name)
            if detail.pk and detail.source == DetailSource.VERIFIED and source == DetailSource.SELF_DECLARED:
                continue
            detail.value = value
            detail.source = source
            detail.verified_by_process_id = process_id
            detail.verified_by_provider = provider
            detail.updated_at = timezone.now()
            detail.save()
            saved.append(detail)
    return saved


class DetailNotEditable(ValidationError):
    """A verified detail: only a new verification changes it."""


def person_details_update(*, person: User, details: Mapping[str, str | None]) -> list[PersonalDetail]:
    """The person edits their self-declared details: a value sets one, an empty value removes one.

    Verified details are read-only here (DetailNotEditable); every value is validated against the
    vocabulary and nothing is written unless all of them are valid."""
    from apps.people.vocabulary import DETAILS_BY_NAME

    unknown = [name for name in details if name not in DETAILS_BY_NAME]
    if unknown:
        raise ValidationError({name: [f"Unknown personal detail '{name}'."] for name in unknown})
    with transaction.atomic():
        existing = {d.name: d for d in PersonalDetail.objects.select_for_update().filter(person=person)}
        verified = sorted(
            name
            for name, value in details.items()
            if name in existing
            and existing[name].source == DetailSource.VERIFIED
            and (value or "").strip() != existing[name].value
        )
        if verified:
            raise DetailNotEditable(
                {name: ["This detail was verified and cannot be changed here."] for name in verified}
            )
        to_set = {
            name: value
            for name, value in details.items()
            if (value or "").strip() and not (name in existing and existing[name].source == DetailSource.VERIFIED)
        }
        cleaned = _clean_details(to_set)
        to_remove = [
            name
            for name, value in details.items()
            if not (value or "").strip() and name in existing and existing[name].source == DetailSource.SELF_DECLARED
        ]
        changed = {
            name: value for name, value in cleaned.items() if name not in existing or existing[name].value != value
        }
        saved = person_set_details(person=person, details=changed) if changed else []
        if to_remove:
            PersonalDetail.objects.filter(person=person, name__in=to_remove, source=DetailSource.SELF_DECLARED).delete()
    return saved


class AccountNotDeletable(Exception):
    """Staff accounts are removed by an administrator, not from /me/."""


def person_delete(*, person: User) -> dict[str, int]:
    """Delete a person's account and everything they shared.

    Every sharing they are a party to ends now (→ EXPIRED, shared values deleted), every request
    still waiting is declined or withdrawn, confirmed data-transfer values are purged and open
    sessions expire, their active identities are deactivated and unlinked, and their details,
    receipts and account are deleted. Each state change goes through the activity, transfer and
    identity state machines, so it is audited and emitted as an event; audit rows carry ids and
    states only, never a personal value."""
    from apps.activities.models import SHARING_STATUSES, ActivityStatus, Party, SharedSnapshot
    from apps.activities.selectors import person_activities
    from apps.activities.services import activity_decline, activity_revoke, activity_withdraw
    from apps.audit.errors import StateConflict
    from apps.audit.services import Actor, transition_apply
    from apps.identities.models import IdentityState
    from apps.transfers.models import OPEN_STATUSES as SESSION_OPEN_STATUSES
    from apps.transfers.models import TransferSession

    if person.is_staff or person.is_superuser or person.memberships.exists():
        raise AccountNotDeletable("Staff accounts are removed by an administrator.")
    actor = Actor.user(person)
    counts = {"sharings_ended": 0, "requests_closed": 0, "sessions": 0, "identities": 0, "details": 0}
    with transaction.atomic():
        activity_ids = []
        for mine in person_activities(person=person):
            activity = mine.activity
            activity_ids.append(activity.pk)
            try:
                if activity.status in SHARING_STATUSES:
                    if activity.effective_status() == ActivityStatus.EXPIRED:
                        # Past its end but not yet swept: end it as the sweep would.
                        transition_apply(activity, "expire", actor=actor, reason="sharing period ended")
                    else:
                        activity_revoke(activity=activity, actor=actor)
                    counts["sharings_ended"] += 1
                elif activity.effective_status() == ActivityStatus.PENDING:
                    if mine.party == Party.RECEPTOR:
                        activity_decline(activity=activity, actor=actor)
                    else:
                        activity_withdraw(activity=activity, actor=actor)
                    counts["requests_closed"] += 1
            except StateConflict:
                # Changed concurrently (answered, swept): whatever it became, nothing of it is left below.
                pass
        # Belt and braces: no snapshot of an activity of theirs survives, whatever its state.
        SharedSnapshot.objects.filter(activity_id__in=activity_ids).delete()

        for session in TransferSession.objects.filter(person=person, status__in=SESSION_OPEN_STATUSES):
            try:
                transition_apply(session, "expire", actor=actor, reason="account deleted")
                counts["sessions"] += 1
            except StateConflict:
                pass
        counts["sessions"] += TransferSession.objects.filter(person=person, data__isnull=False).update(
            data=None, data_purged_at=timezone.now()
        )

        for identity in person.identities.all():
            if identity.state == IdentityState.ACTIVE:
                transition_apply(identity, "deactivate", actor=actor, reason="account deleted")
                counts["identities"] += 1
        person.identities.update(person=None)

        counts["details"], _ = PersonalDetail.objects.filter(person=person).delete()
        person.consent_receipts.all().delete()
        person.delete()
    return counts

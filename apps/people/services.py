"""Writes for people and their personal details."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit import reasons
from apps.audit.services import Actor, transition_apply, transition_record
from apps.core.time_zones import time_zone_get
from apps.people.models import DetailProposal, DetailSource, PersonalDetail, ProposalStatus, User
from apps.people.vocabulary import DETAILS_BY_NAME, clean_detail

logger = logging.getLogger(__name__)


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


def _same_value(name: str, current: str, verified: str) -> bool:
    """Whether a verified value says what the person already has. Free text compares without
    regard to case and spacing ("MARIA  PAULA" is "Maria Paula"); other kinds are normalised."""
    if DETAILS_BY_NAME[name].kind == "text":
        return re.sub(r"\s+", " ", current).strip().casefold() == re.sub(r"\s+", " ", verified).strip().casefold()
    return current == verified


def person_details_propose(
    *, person: User, values: Mapping[str, Any], process_id: str, provider: str, actor: Actor
) -> list[DetailProposal]:
    """A verification's values for `person` (API.md "Pages": nothing replaces a detail silently).

    A value equal to the person's current one only gains the verified provenance (their spelling
    stays); a different value, or a detail they do not have yet, waits as a proposal until they
    confirm or dismiss it on /me/. A newer proposal for the same detail withdraws the older one.
    Values the vocabulary cannot hold are left out."""
    proposals = []
    with transaction.atomic():
        existing = {d.name: d for d in PersonalDetail.objects.select_for_update().filter(person=person)}
        pending = {
            p.name: p
            for p in DetailProposal.objects.select_for_update().filter(person=person, status=ProposalStatus.PENDING)
        }
        for name, raw in values.items():
            try:
                value = clean_detail(name, str(raw))
            except ValidationError:
                logger.info("Process %s: %s is not a valid %s detail; not proposed", process_id, provider, name)
                continue
            current = existing.get(name)
            if current is not None and _same_value(name, current.value, value):
                current.source = DetailSource.VERIFIED
                current.verified_by_process_id = process_id
                current.verified_by_provider = provider
                current.updated_at = timezone.now()
                current.save(update_fields=["source", "verified_by_process_id", "verified_by_provider", "updated_at"])
                continue
            if name in pending:
                transition_apply(pending.pop(name), "withdraw", actor=actor, reason=reasons.A_NEWER_VERIFICATION)
            proposal = DetailProposal.objects.create(
                person=person, name=name, value=value, process_id=process_id, provider=provider
            )
            transition_record(
                subject=proposal,
                from_state="",
                to_state=proposal.status,
                actor=actor,
                reason=reasons.PROPOSED,
                publish=False,
            )
            proposals.append(proposal)
    return proposals


class ProposalNotFound(Exception):
    """No such proposal of this person (another person's is not found either)."""


def detail_proposal_confirm(*, person: User, proposal_id: Any) -> PersonalDetail:
    """The person takes a proposed value: it replaces (or adds) their detail, verified, with provenance.

    Raises ProposalNotFound, or StateConflict once the proposal was decided."""
    with transaction.atomic():
        proposal = DetailProposal.objects.select_for_update().filter(person=person, pk=proposal_id).first()
        if proposal is None:
            raise ProposalNotFound
        name, value = proposal.name, proposal.value
        proposal = transition_apply(proposal, "confirm", actor=Actor.user(person), reason=reasons.CONFIRMED_BY_PERSON)
        (detail,) = person_set_details(
            person=person,
            details={name: value},
            source=DetailSource.VERIFIED,
            process_id=str(proposal.process_id),
            provider=proposal.provider,
        )
    return detail


def detail_proposal_dismiss(*, person: User, proposal_id: Any) -> DetailProposal:
    """The person keeps their own value; the proposed one is forgotten."""
    with transaction.atomic():
        proposal = DetailProposal.objects.select_for_update().filter(person=person, pk=proposal_id).first()
        if proposal is None:
            raise ProposalNotFound
        return transition_apply(proposal, "dismiss", actor=Actor.user(person), reason=reasons.DISMISSED_BY_PERSON)


def detail_proposals_withdraw(*, process_id: Any, actor: Actor, reason: str) -> int:
    """Withdraw what a process still proposes (its personal data was redacted)."""
    withdrawn = 0
    with transaction.atomic():
        for proposal in DetailProposal.objects.select_for_update().filter(
            process_id=process_id, status=ProposalStatus.PENDING
        ):
            transition_apply(proposal, "withdraw", actor=actor, reason=reason)
            withdrawn += 1
    return withdrawn


class DetailNotEditable(ValidationError):
    """A verified detail: only a new verification changes it."""


def person_time_zone_set(*, person: User, time_zone: str) -> User:
    """The zone the person's pages show times in ("" follows the browser); only a real IANA zone."""
    if time_zone and time_zone_get(time_zone) is None:
        raise ValidationError({"time_zone": ["Not a known time zone."]})
    if person.time_zone != time_zone:
        person.time_zone = time_zone
        person.save(update_fields=["time_zone"])
    return person


def person_language_set(*, person: User, language: str) -> User:
    """The language the person chose on the switcher, kept for the emails the portal sends them
    (only one of LANGUAGES; anything else is ignored)."""
    if language in dict(settings.LANGUAGES) and person.language != language:
        person.language = language
        person.save(update_fields=["language"])
    return person


def person_details_update(*, person: User, details: Mapping[str, str | None]) -> list[PersonalDetail]:
    """The person edits their self-declared details: a value sets one, an empty value removes one.

    Verified details are read-only here (DetailNotEditable); every value is validated against the
    vocabulary and nothing is written unless all of them are valid."""
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
            if value and value.strip() and not (name in existing and existing[name].source == DetailSource.VERIFIED)
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


def people_forget_person(*, person: User) -> dict[str, int]:
    """A person's account is being deleted (apps.portal.services.person_delete, after every other
    app forgot them): their details and proposed updates, then the account itself."""
    details, _ = PersonalDetail.objects.filter(person=person).delete()
    proposals, _ = DetailProposal.objects.filter(person=person).delete()
    person.delete()
    return {"details": details, "proposals": proposals}

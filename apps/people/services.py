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

"""Writes for OTP identifications (seed 001)."""

from __future__ import annotations

import base64
import hmac
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.audit import reasons
from apps.audit.errors import StateConflict
from apps.audit.services import Actor, expire_if_overdue, sweep_overdue, transition_apply, transition_record
from apps.core.counters import LimitExceeded, WindowLimit, window_limits_take
from apps.core.crypto import lookup_hash, normalize_email
from apps.core.message_limits import link_message_take
from apps.identifications.links import identification_url
from apps.identifications.models import (
    MAX_FAILED_ATTEMPTS,
    OPEN_STATUSES,
    Channel,
    IdentificationStatus,
    MessageKind,
    MessageStatus,
    OtpIdentification,
    OtpMessage,
    TwoFactorType,
)
from apps.identifications.sms import sms_send
from apps.organizations.models import Organization

logger = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
# Sends of a code: per identification, and per destination (one phone or address may
# belong to several identifications, across organizations).
SEND_LIMIT_PER_IDENTIFICATION = (3, 10 * 60)
SEND_LIMIT_PER_DESTINATION = (5, 60 * 60)
MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"%PDF-", "application/pdf"))
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")


# A refusal of the message limits (apps.core.message_limits): HTTP 429 with Retry-After.
RateLimited = LimitExceeded


@dataclass(frozen=True)
class ActorData:
    name: str
    surname: str
    email: str = ""
    phone: str = ""
    document_number: str = ""


def normalize_phone(phone: str) -> str:
    return re.sub(r"[\s().-]", "", phone)


def normalize_document_number(value: str) -> str:
    return re.sub(r"[\s.-]", "", value).upper()


def _code_hash(identification_id: Any, code: str) -> str:
    # Keyed and bound to the identification: a leaked table alone does not give codes away.
    return lookup_hash(f"otp:{identification_id}:{code}")


def identification_validate(*, actor: ActorData, channel: str, two_factor_type: str) -> ActorData:
    """The channel and the second factor need the matching contact data; returns it cleaned."""
    errors: dict[str, Any] = {}
    phone = normalize_phone(actor.phone) if actor.phone else ""
    if phone and not _PHONE.match(phone):
        errors["phone"] = ["Give the phone number in international form, such as +34600111222."]
    if channel == Channel.SMS and not phone:
        errors["phone"] = ["The SMS channel needs the actor's phone number."]
    if channel == Channel.EMAIL and not actor.email:
        errors["email"] = ["The EMAIL channel needs the actor's email."]
    if two_factor_type == TwoFactorType.EMAIL and not actor.email:
        errors["email"] = ["The EMAIL second factor needs the actor's email."]
    if two_factor_type in (TwoFactorType.DOCUMENT_NUMBER, TwoFactorType.PERSONAL_DOCUMENT_IMAGE) and not (
        actor.document_number.strip()
    ):
        errors["document_number"] = [f"The {two_factor_type} second factor needs the actor's document number."]
    if errors:
        raise ValidationError({f"actor.{name}": messages for name, messages in errors.items()})
    return ActorData(
        name=actor.name.strip(),
        surname=actor.surname.strip(),
        email=normalize_email(actor.email) if actor.email else "",
        phone=phone,
        document_number=actor.document_number.strip(),
    )


def identification_create(
    *,
    organization: Organization,
    actor_data: ActorData,
    channel: str,
    two_factor_type: str = "",
    expires_in: timedelta,
    actor: Actor,
    send_link: bool = False,
) -> OtpIdentification:
    """Create an identification; 409 while one is open for the same actor email or document number.

    send_link: email or text the actor the link to their page. The message limits are taken
    before the row exists, so past them (RateLimited → 429) nothing is created or sent."""
    actor_data = identification_validate(actor=actor_data, channel=channel, two_factor_type=two_factor_type)
    email_hash = lookup_hash(actor_data.email) if actor_data.email else ""
    document_hash = (
        lookup_hash(normalize_document_number(actor_data.document_number)) if actor_data.document_number else ""
    )
    with transaction.atomic():
        # The organization row lock serialises concurrent creates, so two requests for the
        # same actor cannot both pass the open-identification check.
        Organization.objects.select_for_update().get(pk=organization.pk)
        _expire_overdue_for_actor(organization, email_hash, document_hash)
        same_actor = Q(pk__in=[])
        if email_hash:
            same_actor |= Q(actor_email_hash=email_hash)
        if document_hash:
            same_actor |= Q(actor_document_hash=document_hash)
        if OtpIdentification.objects.filter(same_actor, organization=organization, status__in=OPEN_STATUSES).exists():
            raise StateConflict("An open identification exists for this actor's email or document number.")
        identification_id = uuid.uuid4()
        if send_link:
            # Counted atomically in the cache, and given back when refused: of two creates racing
            # for a destination's last message, one gets it and the other creates nothing.
            link_message_take(
                destination_key=_destination_key(
                    channel, actor_data.phone if channel == Channel.SMS else actor_data.email
                ),
                subject_key=f"identification:{identification_id}",
            )
        identification = OtpIdentification.objects.create(
            id=identification_id,
            organization=organization,
            actor_name=actor_data.name,
            actor_surname=actor_data.surname,
            actor_email=actor_data.email,
            actor_phone=actor_data.phone,
            actor_document_number=actor_data.document_number,
            actor_email_hash=email_hash,
            actor_document_hash=document_hash,
            channel=channel,
            two_factor_type=two_factor_type,
            expires_at=timezone.now() + expires_in,
        )
        transition_record(
            subject=identification, from_state="", to_state=identification.status, actor=actor, reason=reasons.CREATED
        )
    if send_link:
        identification_send_link(identification=identification)
    return identification


def _expire_overdue_for_actor(organization: Organization, email_hash: str, document_hash: str) -> None:
    """An overdue identification no longer blocks a new one, even before the sweep reaches it."""
    hashes = Q(pk__in=[])
    if email_hash:
        hashes |= Q(actor_email_hash=email_hash)
    if document_hash:
        hashes |= Q(actor_document_hash=document_hash)
    overdue = OtpIdentification.objects.filter(
        hashes, organization=organization, status__in=OPEN_STATUSES, expires_at__lte=timezone.now()
    )
    for identification in overdue:
        identification_expire_if_overdue(identification=identification)


def _destination(identification: OtpIdentification) -> str:
    return identification.actor_phone if identification.channel == Channel.SMS else identification.actor_email


def _destination_key(channel: str, destination: str) -> str:
    """The message counters' name for a phone number or email address (normalised, then a keyed
    hash: the cache never holds the destination itself). The same for every organization."""
    kind = "phone" if channel == Channel.SMS else "email"
    value = normalize_phone(destination) if channel == Channel.SMS else normalize_email(destination)
    return lookup_hash(f"{kind}:{value}")


def _deliver(identification: OtpIdentification, *, kind: str, subject: str, template: str, context: dict) -> OtpMessage:
    """Send one message over the identification's channel and log it (never its body)."""
    destination = _destination(identification)
    body = render_to_string(template, {"identification": identification, **context})
    status, error = MessageStatus.SENT, ""
    try:
        if identification.channel == Channel.SMS:
            sms_send(to=destination, body=body)
        else:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [destination])
    except Exception as exc:
        status, error = MessageStatus.FAILED, f"{type(exc).__name__}"
        logger.warning("Identification %s: %s message over %s failed", identification.pk, kind, identification.channel)
    message = OtpMessage.objects.create(
        identification=identification,
        kind=kind,
        channel=identification.channel,
        destination=destination,
        status=status,
        error=error,
    )
    logger.info("Identification %s: %s message over %s %s", identification.pk, kind, identification.channel, status)
    return message


def identification_send_link(*, identification: OtpIdentification) -> OtpMessage:
    """Send the actor the link to their page (on create and on resend)."""
    return _deliver(
        identification,
        kind=MessageKind.LINK,
        subject=f"{identification.organization.name}: confirm your identity",
        template="identifications/messages/link.txt",
        context={"url": identification_url(identification), "organization": identification.organization},
    )


def identification_resend(*, identification: OtpIdentification) -> OtpMessage:
    """The link again (API or back office); 409 unless open, RateLimited past the message limits."""
    identification = identification_expire_if_overdue(identification=identification)
    if identification.status not in OPEN_STATUSES:
        raise StateConflict(f"An identification in state {identification.status} cannot be resent.")
    link_message_take(
        destination_key=_destination_key(identification.channel, _destination(identification)),
        subject_key=f"identification:{identification.pk}",
    )
    return identification_send_link(identification=identification)


def identification_cancel(*, identification: OtpIdentification, reason: str, actor: Actor) -> OtpIdentification:
    """Cancel an open identification with the integrator's reason; 409 once final."""
    identification = identification_expire_if_overdue(identification=identification)
    return transition_apply(identification, "cancel", actor=actor, reason=reason[:500], cancel_reason=reason)


def identification_images_assign(*, identification: OtpIdentification, user: Any, reason: str) -> OtpIdentification:
    """A staff member takes the review of submitted document images ("assign to me"), with a reason.

    The status stays IN_PROGRESS, so this is written to the audit trail (its own event type, with
    the reason and the staff member) but sent to no one: integrators hear of the decision."""
    if not reason.strip():
        raise ValidationError(_("Say why: a reason is required."))
    identification = identification_expire_if_overdue(identification=identification)
    with transaction.atomic():
        locked = OtpIdentification.objects.select_for_update().get(pk=identification.pk)
        if not locked.awaiting_review:
            raise StateConflict(_("These document images are not waiting for review."))
        if locked.images_reviewer_id is not None:
            if locked.images_reviewer_id == user.pk:
                return locked
            raise StateConflict(_("Someone else is reviewing these document images."))
        locked.assign_images(reviewer=user)
        locked.save(update_fields=["images_reviewer", "images_assigned_at", "updated_at"])
        transition_record(
            subject=locked,
            from_state=locked.status,
            to_state=locked.status,
            actor=Actor.user(user),
            reason=reason.strip()[:500],
            event_type="identification.images_assigned",
            publish=False,
        )
    return locked


def identification_images_decide(
    *, identification: OtpIdentification, user: Any, approve: bool, reason: str
) -> OtpIdentification:
    """The reviewer approves or rejects the document images, with a reason: audited and sent as an event."""
    if not reason.strip():
        raise ValidationError(_("Say why: a reason is required."))
    if identification.images_reviewer_id != user.pk:
        raise StateConflict(_("Assign the images' review to yourself first: only the reviewer decides it."))
    identification = identification_expire_if_overdue(identification=identification)
    return transition_apply(
        identification, "approve" if approve else "reject", actor=Actor.user(user), reason=reason.strip()[:500]
    )


def identification_delete(*, identification: OtpIdentification, force: bool, may_force: bool, actor: Actor) -> None:
    """Delete a CREATED identification; any other state needs force and the force-delete scope."""
    with transaction.atomic():
        locked = OtpIdentification.objects.select_for_update().get(pk=identification.pk)
        if locked.status != IdentificationStatus.CREATED and not (force and may_force):
            raise PermissionDenied(
                f"An identification in state {locked.status} is deleted only with force=true "
                "and an API key with the identifications:force-delete scope."
            )
        # The audit trail outlives the row: the deletion is its last entry (and an event).
        from_state = locked.status
        transition_record(
            subject=_Deleted(locked),
            from_state=from_state,
            to_state="DELETED",
            actor=actor,
            reason=reasons.FORCE_DELETED if from_state != IdentificationStatus.CREATED else reasons.DELETED,
        )
        locked.delete()


class _Deleted:
    """The audit view of an identification being deleted: its last payload says DELETED."""

    EVENT_TYPE = OtpIdentification.EVENT_TYPE
    STATE_FIELD = OtpIdentification.STATE_FIELD

    def __init__(self, identification: OtpIdentification) -> None:
        self._identification = identification
        self.pk = identification.pk
        self.organization_id = identification.organization_id
        self._meta = identification._meta

    def event_data(self) -> dict[str, Any]:
        return {**self._identification.event_data(), "status": "DELETED"}


def identification_expire_if_overdue(*, identification: OtpIdentification) -> OtpIdentification:
    """Read-time guard: an open identification past expires_at expires now, not at the next sweep."""
    return expire_if_overdue(identification)


def identifications_expire_overdue(*, batch_size: int = 500) -> int:
    """Beat sweep, one batch: open identifications past expires_at become EXPIRED. Idempotent."""
    return sweep_overdue(OtpIdentification, batch_size=batch_size)


def identification_send_code(*, identification: OtpIdentification) -> OtpMessage:
    """A fresh six-digit code over the channel, valid CODE_TTL; rate limited (RateLimited → 429).

    The actor's first request for a code is their first act on the identification: it moves
    CREATED → IN_PROGRESS, in the transaction that stores the code. Opening the page does not
    (a GET never writes; a mail scanner following the link is no act of the actor), and a
    refused request (429) changes nothing."""
    identification = identification_expire_if_overdue(identification=identification)
    if identification.status not in OPEN_STATUSES or identification.code_verified_at:
        raise StateConflict("This identification does not take a code now.")
    per_identification, per_destination = SEND_LIMIT_PER_IDENTIFICATION, SEND_LIMIT_PER_DESTINATION
    # The sentences reach the actor's page (429), in the page's language.
    if identification.channel == Channel.SMS:
        too_many_here = _("Too many codes were sent to this phone in the last hour. Wait before asking again.")
    else:
        too_many_here = _("Too many codes were sent to this address in the last hour. Wait before asking again.")
    window_limits_take(
        [
            WindowLimit(
                f"otp-code:identification:{identification.pk}",
                *per_identification,
                _("You asked for %(count)d codes in %(minutes)d minutes. Wait a little before asking again.")
                % {"count": per_identification[0], "minutes": per_identification[1] // 60},
            ),
            WindowLimit(
                f"otp-code:{_destination_key(identification.channel, _destination(identification))}",
                *per_destination,
                too_many_here,
            ),
        ]
    )
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        locked = OtpIdentification.objects.select_for_update().get(pk=identification.pk)
        if locked.status == IdentificationStatus.CREATED:
            locked = transition_apply(locked, "start", actor=Actor.system("actor page"), reason=reasons.CODE_REQUESTED)
        if locked.status != IdentificationStatus.IN_PROGRESS or locked.code_verified_at:
            raise StateConflict(f"An identification in state {locked.status} does not take a code now.")
        locked.code_hash = _code_hash(locked.pk, code)
        locked.code_expires_at = timezone.now() + CODE_TTL
        locked.save(update_fields=["code_hash", "code_expires_at", "updated_at"])
    return _deliver(
        locked,
        kind=MessageKind.CODE,
        subject=f"{locked.organization.name}: your one-time code",
        template="identifications/messages/code.txt",
        context={"code": code, "minutes": int(CODE_TTL.total_seconds() // 60)},
    )


@dataclass(frozen=True)
class CheckResult:
    identification: OtpIdentification
    ok: bool
    message: str = ""


def _not_right(what: str, left: int) -> str:
    """What the actor's page says of a wrong answer, in the page's language."""
    if what == "code":
        message = ngettext(
            "That code is not right. %(left)d attempt left.", "That code is not right. %(left)d attempts left.", left
        )
    elif what == "email":
        message = ngettext(
            "That email is not right. %(left)d attempt left.", "That email is not right. %(left)d attempts left.", left
        )
    else:
        message = ngettext(
            "That document number is not right. %(left)d attempt left.",
            "That document number is not right. %(left)d attempts left.",
            left,
        )
    return message % {"left": left}


def _wrong_answer(locked: OtpIdentification, what: str) -> CheckResult:
    """Count a wrong code or second factor; the fifth fails the identification."""
    locked.failed_attempts += 1
    locked.save(update_fields=["failed_attempts", "updated_at"])
    left = MAX_FAILED_ATTEMPTS - locked.failed_attempts
    if left <= 0:
        failed = transition_apply(
            locked,
            "fail",
            actor=Actor.system("actor page"),
            reason=reasons.TOO_MANY_WRONG_ANSWERS,
            fail_reason=reasons.TOO_MANY_WRONG_ANSWERS,
        )
        return CheckResult(failed, False, _("Too many wrong answers: this identification has failed."))
    return CheckResult(locked, False, _not_right(what, left))


def identification_check_code(*, identification: OtpIdentification, code: str) -> CheckResult:
    """Compare the code with the stored hash; without a second factor a match identifies."""
    identification = identification_expire_if_overdue(identification=identification)
    with transaction.atomic():
        # Locked so that concurrent guesses are counted one after another, never lost.
        locked = OtpIdentification.objects.select_for_update().get(pk=identification.pk)
        if locked.status != IdentificationStatus.IN_PROGRESS or locked.code_verified_at:
            raise StateConflict("This identification does not take a code now.")
        if not locked.code_hash or locked.code_expires_at is None or locked.code_expires_at <= timezone.now():
            return CheckResult(locked, False, _("This code has expired or was never sent. Ask for a new code."))
        if not hmac.compare_digest(locked.code_hash, _code_hash(locked.pk, code.strip())):
            return _wrong_answer(locked, "code")
        locked.code_hash = ""  # one use only
        locked.code_verified_at = timezone.now()
        locked.save(update_fields=["code_hash", "code_verified_at", "updated_at"])
        if not locked.two_factor_type:
            locked = transition_apply(locked, "identify", actor=Actor.system("actor page"), reason=reasons.CODE_MATCHED)
        return CheckResult(locked, True)


def identification_check_second_factor(*, identification: OtpIdentification, value: str) -> CheckResult:
    """DOCUMENT_NUMBER or EMAIL: the value must match the actor's; a match identifies."""
    identification = identification_expire_if_overdue(identification=identification)
    with transaction.atomic():
        locked = OtpIdentification.objects.select_for_update().get(pk=identification.pk)
        if (
            locked.status != IdentificationStatus.IN_PROGRESS
            or not locked.code_verified_at
            or locked.two_factor_type not in (TwoFactorType.DOCUMENT_NUMBER, TwoFactorType.EMAIL)
        ):
            raise StateConflict("This identification does not take a second factor now.")
        if locked.two_factor_type == TwoFactorType.EMAIL:
            given, expected = normalize_email(value), locked.actor_email
            what = "email"
        else:
            given, expected = normalize_document_number(value), normalize_document_number(locked.actor_document_number)
            what = "document number"
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            return _wrong_answer(locked, what)
        locked = transition_apply(
            locked, "identify", actor=Actor.system("actor page"), reason=reasons.SECOND_FACTOR_MATCHED
        )
        return CheckResult(locked, True)


def document_image_check(content: bytes) -> str:
    """The image's content type by its magic bytes (JPEG, PNG or PDF), at most 5 MB."""
    if len(content) > MAX_IMAGE_BYTES:
        raise ValidationError(_("The file is larger than %(mb)d MB.") % {"mb": MAX_IMAGE_BYTES // (1024 * 1024)})
    if not content:
        raise ValidationError(_("The file is empty."))
    for magic, content_type in IMAGE_TYPES:
        if content.startswith(magic):
            return content_type
    raise ValidationError(_("Upload a JPEG, PNG or PDF file."))


def identification_submit_images(*, identification: OtpIdentification, front: bytes, back: bytes) -> OtpIdentification:
    """PERSONAL_DOCUMENT_IMAGE: store both images encrypted for staff review.

    The state is checked before the files: out of turn the answer is 409 whatever was sent."""
    identification = identification_expire_if_overdue(identification=identification)
    with transaction.atomic():
        locked = OtpIdentification.objects.select_for_update().get(pk=identification.pk)
        if (
            locked.status != IdentificationStatus.IN_PROGRESS
            or not locked.code_verified_at
            or locked.two_factor_type != TwoFactorType.PERSONAL_DOCUMENT_IMAGE
            or locked.images_submitted_at
        ):
            raise StateConflict("This identification does not take document images now.")
        errors = {}
        types = {}
        for name, content in (("front_image", front), ("back_image", back)):
            try:
                types[name] = document_image_check(content)
            except ValidationError as exc:
                errors[name] = exc.messages
        if errors:
            raise ValidationError(errors)
        locked.front_image = base64.b64encode(front).decode()
        locked.front_image_type = types["front_image"]
        locked.back_image = base64.b64encode(back).decode()
        locked.back_image_type = types["back_image"]
        locked.images_submitted_at = timezone.now()
        locked.save()
    return locked


def identification_image(*, identification: OtpIdentification, side: str) -> tuple[bytes, str] | None:
    """One stored document image, decrypted, with its content type (staff review)."""
    if side not in ("front", "back"):
        return None
    data = getattr(identification, f"{side}_image")
    if not data:
        return None
    return base64.b64decode(data), getattr(identification, f"{side}_image_type")

"""The email a person gets when a request waits for them on /me/ (API.md "Activities").

Sent once per activity, after the activity's creation commits (apps.activities.tasks.
activities_created_notify, a subscriber of audit's announcements registered in
ActivitiesConfig.ready), by a Celery task. Only to a person who
answers for themselves: a managed receptor is answered through the API and gets no mail. The
mail is in the person's language, carries the organization's name, the kind of request, the
deadline and the link to the request, and no personal value of anyone (no initiator name, no
purpose text, no details). At most REQUEST_NOTICES_PER_PERSON reach one person; past them the
requests still wait on /me/, without a mail.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation

from apps.activities.models import Activity, ActivityStatus
from apps.audit.dispatch import Change
from apps.core.counters import LimitExceeded
from apps.core.crypto import lookup_hash
from apps.core.message_limits import request_notice_take
from apps.core.time_zones import time_zone_get
from apps.identities.models import IdentityState

logger = logging.getLogger(__name__)


def activities_waiting(changes: list[Change]) -> list[str]:
    """The ids of the activities just created and waiting for their receptor."""
    return [c.object_id for c in changes if c.created and c.to_state == ActivityStatus.PENDING]


def activity_notify_receptor(*, activity_id: str) -> bool:
    """Email the receptor of a still pending activity that it waits for them; True when sent."""
    activity = Activity.objects.select_related("organization", "receptor__person").filter(pk=activity_id).first()
    if activity is None or activity.status != ActivityStatus.PENDING:
        return False
    identity = activity.receptor
    person = identity.person
    if identity.managed or identity.state != IdentityState.ACTIVE or person is None or not person.is_active:
        return False
    try:
        request_notice_take(person_key=lookup_hash(f"person:{person.pk}"))
    except LimitExceeded:
        logger.info("Activity %s: request notice not sent (the person's notice limit is spent)", activity.pk)
        return False
    language = person.language if person.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    zone = time_zone_get(person.time_zone)
    with translation.override(language):
        deadline = activity.valid_until.astimezone(zone) if zone else activity.valid_until
        context = {
            "organization": activity.organization,
            "kind": activity.get_type_display(),
            "valid_until": formats.date_format(deadline, "DATETIME_FORMAT"),
            "link": settings.PUBLIC_BASE_URL + reverse("people:activities:activity", args=[activity.pk]),
        }
        subject = " ".join(render_to_string("activities/email/waiting_subject.txt", context).split())
        body = render_to_string("activities/email/waiting.txt", context)
        html = render_to_string("activities/email/waiting.html", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [person.email], html_message=html)
    logger.info("Activity %s: request notice sent to the receptor", activity.pk)
    return True

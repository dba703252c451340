from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from apps.audit.models import Transition


def transitions_for(subject: models.Model) -> QuerySet[Transition]:
    """The audit trail of one object, oldest first."""
    return Transition.objects.filter(
        content_type=ContentType.objects.get_for_model(subject), object_id=str(subject.pk)
    ).order_by("id")

from __future__ import annotations

from typing import Any

from apps.identifications.models import OtpIdentification
from apps.organizations.models import Organization


def identification_get(*, organization: Organization, identification_id: Any) -> OtpIdentification | None:
    return OtpIdentification.objects.filter(organization=organization, pk=identification_id).first()

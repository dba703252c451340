from __future__ import annotations

from apps.api.urls import api_path
from apps.identifications.api import views

base = "orgs/<slug:org_id>/identifications/otp"
one = f"{base}/<uuid:admin_identification_id>"

urlpatterns = [
    *api_path(base, views.IdentificationListCreateApi.as_view(), name="identifications-otp"),
    *api_path(one, views.IdentificationDetailApi.as_view(), name="identification-otp"),
    *api_path(f"{one}/cancel", views.IdentificationCancelApi.as_view(), name="identification-otp-cancel"),
    *api_path(f"{one}/resend", views.IdentificationResendApi.as_view(), name="identification-otp-resend"),
]

from __future__ import annotations

from apps.api.urls import api_path
from apps.identities.api import views

base = "orgs/<slug:org_id>/external-personal-identities"

urlpatterns = [
    *api_path(base, views.IdentityListCreateApi.as_view(), name="identities"),
    *api_path(f"{base}/<uuid:identity_id>", views.IdentityDetailApi.as_view(), name="identity"),
    *api_path(
        f"{base}/<uuid:identity_id>/resend-invitation",
        views.IdentityResendInvitationApi.as_view(),
        name="identity-resend-invitation",
    ),
]

"""The person's side of people's apps, mounted under /me/ by apps.portal.urls."""

from __future__ import annotations

from django.urls import path

from apps.oauth import views

app_name = "oauth"

urlpatterns = [
    path("apps/<uuid:connection_id>/revoke", views.connection_revoke_view, name="revoke"),
]

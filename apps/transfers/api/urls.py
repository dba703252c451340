from __future__ import annotations

from apps.api.urls import api_path
from apps.transfers.api import views

one = "session/<uuid:session_id>"

urlpatterns = [
    *api_path("orgs/<slug:org_id>/sessions", views.SessionCreateApi.as_view(), name="sessions"),
    *api_path(
        "orgs/<slug:org_id>/sessions/<uuid:session_id>/decision",
        views.SessionDecisionApi.as_view(),
        name="session-decision",
    ),
    *api_path(f"{one}/status", views.SessionStatusApi.as_view(), name="session-status"),
    *api_path(f"{one}/renew", views.SessionRenewApi.as_view(), name="session-renew"),
    *api_path(f"{one}/information", views.SessionInformationApi.as_view(), name="session-information"),
    *api_path(f"{one}/update", views.SessionUpdateApi.as_view(), name="session-update"),
    # Seed 004's decision path: an API key, not the session token (the other routes here).
    *api_path(f"{one}/decision", views.SessionDecisionBySessionIdApi.as_view(), name="session-decision-seed"),
]

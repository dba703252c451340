"""/me/: the person's pages. The namespace stays "people" (`people:me`), as every page names it."""

from __future__ import annotations

from django.urls import include, path

from apps.people import views as people_views
from apps.portal import views
from apps.verifications import views as verification_views

app_name = "people"

urlpatterns = [
    path("", views.me, name="me"),
    path("details/", people_views.details_edit, name="details"),
    path("delete/", views.account_delete, name="delete"),
    path("deleted/", views.goodbye, name="goodbye"),
    path("proposals/<uuid:proposal_id>/confirm/", views.proposal_confirm, name="proposal-confirm"),
    path("proposals/<uuid:proposal_id>/dismiss/", views.proposal_dismiss, name="proposal-dismiss"),
    path("verifications/<uuid:process_id>/redact/", verification_views.person_process_redact, name="process-redact"),
    # /me/apps/<id>/revoke: "Connected apps" (people's apps, apps.oauth)
    path("", include("apps.oauth.me_urls")),
    # /me/activities/<id>/ (consent screen), .../revoke, /me/receipts/<id>/ and <id>.json
    path("", include("apps.activities.urls")),
]

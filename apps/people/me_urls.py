from __future__ import annotations

from django.urls import include, path

from apps.people import views

app_name = "people"

urlpatterns = [
    path("", views.me, name="me"),
    path("details/", views.details_edit, name="details"),
    path("delete/", views.account_delete, name="delete"),
    path("deleted/", views.goodbye, name="goodbye"),
    # /me/activities/<id>/ (consent screen), .../revoke, /me/receipts/<id>/ and <id>.json
    path("", include("apps.activities.urls")),
]

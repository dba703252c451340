from __future__ import annotations

from django.urls import path

from apps.identities import views

app_name = "identities"

urlpatterns = [
    path("<uuid:identity_id>/<str:token>/", views.invitation, name="invitation"),
]

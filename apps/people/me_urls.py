from __future__ import annotations

from django.urls import path

from apps.people import views

app_name = "people"

urlpatterns = [
    path("", views.me, name="me"),
]

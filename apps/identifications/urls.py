from __future__ import annotations

from django.urls import path

from apps.identifications import views

app_name = "identifications"

urlpatterns = [
    path("<uuid:identification_id>/<str:token>/", views.identification_page, name="page"),
]

from __future__ import annotations

from django.urls import path

from apps.transfers import views

app_name = "transfers"

urlpatterns = [
    path("<uuid:session_id>", views.consent_page, name="consent"),
    path("<uuid:session_id>/qr.svg", views.qr_svg, name="qr"),
    path("<uuid:session_id>/display", views.display_page, name="display"),
]

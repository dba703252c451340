from __future__ import annotations

from django.urls import path

from apps.verifications import views

app_name = "verifications"

urlpatterns = [
    path("connect/callback", views.connect_callback, name="connect-callback"),
    path("<uuid:process_id>/<str:token>/", views.process_page, name="page"),
]

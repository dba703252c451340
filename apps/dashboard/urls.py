from __future__ import annotations

from django.contrib import admin
from django.urls import path

from apps.dashboard import views

app_name = "dashboard"

# admin_view: only active staff get in; anyone else is sent to the admin's login page.
urlpatterns = [path("", admin.site.admin_view(views.dashboard), name="index")]

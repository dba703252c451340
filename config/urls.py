from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.api.health import healthz
from apps.api.urls import api_path
from apps.people.api.views import PersonalDetailsApi

api_v1 = [
    *api_path("personal-details", PersonalDetailsApi.as_view(), name="personal-details"),
    path("", include("apps.identities.api.urls")),
    path("", include("apps.webhooks.api.urls")),
    path("", include("apps.verifications.api.urls")),
    path("", include("apps.activities.api.urls")),
    path("", include("apps.identifications.api.urls")),
    path("", include("apps.transfers.api.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="people:me", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("admin/dashboard/", include("apps.dashboard.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("apps.people.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("me/", include("apps.people.me_urls")),
    path("invitations/", include("apps.identities.urls")),
    path("verify/", include("apps.verifications.urls")),
    path("identify/", include("apps.identifications.urls")),
    path("session/", include("apps.transfers.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

admin.site.site_header = "Identity Portal back office"
admin.site.site_title = "Identity Portal"
admin.site.index_title = "Back office"

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.api.health import healthz
from apps.api.urls import api_path, api_section
from apps.people import views as people_views
from apps.people.api.views import PersonalDetailsApi, PersonDetailsApi
from apps.webhooks.demo_receiver import demo_receiver

# Django's 403, 400 and 500 handlers render templates/403.html, 400.html and 500.html.
handler404 = "apps.core.error_pages.page_not_found"


def favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request: the static manifest (production) may not exist when URLs load.
    return redirect(static("favicon.svg"))


api_v1: list[URLPattern | URLResolver] = [
    *api_path("personal-details", PersonalDetailsApi.as_view(), name="personal-details"),
    *api_path("me/details", PersonDetailsApi.as_view(), name="me-details"),
    api_section("apps.identities.api.urls"),
    api_section("apps.webhooks.api.urls"),
    api_section("apps.verifications.api.urls"),
    api_section("apps.activities.api.urls"),
    api_section("apps.identifications.api.urls"),
    api_section("apps.transfers.api.urls"),
]

urlpatterns = [
    # First: the API is what is requested most, and Django tries the routes in order.
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("", RedirectView.as_view(pattern_name="people:me", permanent=False)),
    path("healthz", healthz, name="healthz"),
    # The demo's webhook receiver (DEMO_WEBHOOK_RECEIVER: `make run` only; 404 elsewhere).
    path("demo/webhooks/receiver", demo_receiver, name="demo-webhook-receiver"),
    # Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    path("favicon.ico", favicon, name="favicon"),
    path("admin/dashboard/", include("apps.dashboard.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("apps.people.urls")),
    # Django's switcher, keeping a signed-in person's choice for the emails sent to them.
    path("i18n/setlang/", people_views.set_language, name="set_language"),
    path("me/", include("apps.portal.urls")),
    path("invitations/", include("apps.identities.urls")),
    path("verify/", include("apps.verifications.urls")),
    path("identify/", include("apps.identifications.urls")),
    path("session/", include("apps.transfers.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # People's apps: /oauth/authorize/, /oauth/token/, /oauth/revoke_token/, /oauth/userinfo/ and
    # /.well-known/openid-configuration (django-oauth-toolkit's name space: it reverses its own routes).
    path("", include("apps.oauth.urls")),
]

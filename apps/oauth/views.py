"""Pages of people's apps: the approval page of the authorization flow, and revoking an app from
"Connected apps" on /me/."""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from oauth2_provider.models import get_application_model
from oauth2_provider.views import AuthorizationView, ConnectDiscoveryInfoView

from apps.audit import reasons
from apps.audit.errors import StateConflict
from apps.audit.services import Actor
from apps.oauth.scopes import scope_labels
from apps.oauth.selectors import person_connection_get
from apps.oauth.services import connection_record, connection_revoke


class ApprovalView(AuthorizationView):
    """`/oauth/authorize/`: django-oauth-toolkit's authorization endpoint with the portal's
    approval page. The person signs in first (the sign-in page sends them back here), then
    approves or denies the app; the approval is their connection to it (audited), a denial
    returns `access_denied` to the app's redirect URI."""

    template_name = "oauth/authorize.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["scope_labels"] = scope_labels(" ".join(context.get("scopes") or []))
        return context

    def redirect(self, redirect_to: str, application: Any) -> HttpResponse:
        # An error found after the app and its redirect URI were checked still goes back to the
        # app, though django-oauth-toolkit passes no application then: without it, the redirect
        # would allow only https and refuse the app's loopback or private-use scheme.
        if application is None:
            client_id = self.request.POST.get("client_id") or self.request.GET.get("client_id") or ""
            application = get_application_model().objects.filter(client_id=client_id).first()
        return super().redirect(redirect_to, application)

    def form_valid(self, form: Any) -> HttpResponse:
        # The hidden fields come back from the browser: an app that does not exist (or was
        # suspended meanwhile) is an error page, never a crash.
        application = get_application_model().objects.filter(client_id=form.cleaned_data["client_id"]).first()
        if application is None or not application.is_usable(self.request):
            return self.form_invalid(form)
        return super().form_valid(form)

    def form_invalid(self, form: Any) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form, tampered=True), status=400)

    def create_authorization_response(
        self, request: HttpRequest, scopes: str, credentials: dict[str, Any], allow: bool
    ) -> Any:
        answer = super().create_authorization_response(request, scopes, credentials, allow)
        # oauthlib answers a request it refuses with an error redirect, not an exception: the
        # person approved the app only when a code goes back to it.
        uri = answer[0] or ""
        issued = parse_qs(urlsplit(uri).query)
        if allow and "code" in issued and "error" not in issued:
            application = get_application_model().objects.get(client_id=credentials["client_id"])
            connection_record(person=request.user, application=application, scopes=scopes.split())
        return answer


class DiscoveryView(ConnectDiscoveryInfoView):
    """`/.well-known/openid-configuration`, saying what people's apps get: ID tokens signed
    RS256 only (django-oauth-toolkit also lists HS256, which only confidential clients can use,
    and people's apps are public clients)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        document = json.loads(response.content)
        document["id_token_signing_alg_values_supported"] = ["RS256"]
        response.content = json.dumps(document).encode()
        return response


@login_required
@require_POST
def connection_revoke_view(request: HttpRequest, connection_id: UUID) -> HttpResponse:
    """The person revokes an app from "Connected apps": it loses every token it holds for them."""
    connection = person_connection_get(person=request.user, connection_id=connection_id)
    if connection is None:
        raise Http404(_("No such connected app."))
    # Revoked meanwhile (another tab): that is the outcome the person asked for.
    with contextlib.suppress(StateConflict):
        connection_revoke(connection=connection, actor=Actor.user(request.user), reason=reasons.REVOKED_BY_PERSON)
    messages.success(
        request,
        _("%(app)s can no longer act for you: its access has been revoked.") % {"app": connection.application.name},
    )
    return redirect(reverse("people:me") + "#apps-heading")

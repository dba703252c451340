"""Registering people's apps in the back office: superusers only, exact and safe redirect URIs,
the scopes an app may ask for; people's tokens are not shown to staff."""

from __future__ import annotations

import pytest
from django.contrib import admin
from oauth2_provider.models import get_access_token_model, get_grant_model, get_id_token_model, get_refresh_token_model

from apps.oauth.models import Application
from apps.people.models import User
from tests.backoffice.conftest import make_staff
from tests.factories import OrganizationFactory, staff_login

pytestmark = pytest.mark.django_db

ADD = "/admin/oauth/application/add/"


def _superuser(client):
    return staff_login(client, User.objects.create_superuser("root@example.com", "root-pass-123"))


def test_a_superuser_registers_a_public_pkce_app(client):
    _superuser(client)

    response = client.post(
        ADD,
        {
            "name": "Mio Phone",
            "redirect_uris": "com.example.mio:/callback\nhttp://127.0.0.1/callback",
            "allowed_scopes": ["inbox", "sessions"],
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    app = Application.objects.get()
    assert (app.client_type, app.authorization_grant_type, app.algorithm) == ("public", "authorization-code", "RS256")
    assert app.allowed_scopes == "openid inbox sessions"
    assert app.client_secret == ""
    assert app.skip_authorization is False
    assert app.get_allowed_schemes() == ["com.example.mio", "http", "https"]


@pytest.mark.parametrize(
    "uri",
    ["http://app.example.com/callback", "myapp:/callback", "https://app.example.com/cb#frag", "javascript:alert(1)"],
)
def test_it_refuses_unsafe_redirect_uris(client, uri):
    _superuser(client)

    response = client.post(ADD, {"name": "Bad", "redirect_uris": uri, "allowed_scopes": ["inbox"], "is_active": "on"})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["redirect_uris"]
    assert not Application.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "operator", "administrator"])
def test_organization_staff_cannot_see_or_register_apps(client, role):
    staff_login(client, make_staff(f"{role}@example.com", role, OrganizationFactory()))

    assert client.get("/admin/oauth/application/").status_code == 403
    assert client.post(ADD, {"name": "X", "redirect_uris": "https://x.example.com/cb"}).status_code == 403
    assert not Application.objects.exists()


def test_the_persons_tokens_are_not_in_the_back_office():
    for model in (get_access_token_model(), get_refresh_token_model(), get_id_token_model(), get_grant_model()):
        assert not admin.site.is_registered(model)
    assert admin.site.is_registered(Application)

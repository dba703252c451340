"""The authorization server's routes, under the name space django-oauth-toolkit reverses
(`oauth2_provider:`): only what people's apps use (no implicit, device or password flows, no
application management pages: superusers register apps in the back office)."""

from __future__ import annotations

from django.urls import path, re_path
from oauth2_provider import views as oauth_views

from apps.oauth.views import ApprovalView, DiscoveryView

app_name = "oauth2_provider"

urlpatterns = [
    path("oauth/authorize/", ApprovalView.as_view(), name="authorize"),
    path("oauth/token/", oauth_views.TokenView.as_view(), name="token"),
    path("oauth/revoke_token/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("oauth/userinfo/", oauth_views.UserInfoView.as_view(), name="user-info"),
    re_path(
        r"^\.well-known/openid-configuration/?$",
        DiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(
        ".well-known/oauth-authorization-server",
        oauth_views.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path(".well-known/jwks.json", oauth_views.JwksInfoView.as_view(), name="jwks-info"),
]

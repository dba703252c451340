from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import exceptions, permissions

from apps.organizations.models import ApiKey

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


def request_api_key(request: Request) -> ApiKey:
    """The API key the request was authenticated with; 401 without one."""
    if not isinstance(request.auth, ApiKey):
        raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <api key>'.", code="not_authenticated")
    return request.auth


class HasApiKey(permissions.BasePermission):
    """Every integrator endpoint needs a valid key (401 otherwise, never 403)."""

    # Read by the schema (apps.api.schema): such an endpoint also answers 401, 403 and 429.
    requires_api_key = True

    def has_permission(self, request: Request, view: APIView) -> bool:
        request_api_key(request)
        return True


class HasKeyScope(HasApiKey):
    """The key has the view's scope (403 otherwise). For paths that name no organization: the
    key's own organization is the one acting, so another organization's objects are not found."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        super().has_permission(request, view)
        scope = getattr(view, "required_scope", None)
        if scope and not request_api_key(request).has_scope(scope):
            raise exceptions.PermissionDenied(f"This API key lacks the '{scope}' scope.", code="missing_scope")
        return True


class HasOrgScope(HasKeyScope):
    """The key belongs to the path's organization (404 otherwise) and has the view's scope (403)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        HasApiKey.has_permission(self, request, view)
        key = request_api_key(request)
        if key.organization.slug != view.kwargs.get("org_id"):
            # Never reveal that another organization exists.
            raise exceptions.NotFound()
        return super().has_permission(request, view)

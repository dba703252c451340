from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import exceptions, permissions

from apps.organizations.models import ApiKey

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class HasApiKey(permissions.BasePermission):
    """Every integrator endpoint needs a valid key (401 otherwise, never 403)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not isinstance(request.auth, ApiKey):
            raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <api key>'.", code="not_authenticated")
        return True


class HasOrgScope(HasApiKey):
    """The key belongs to the path's organization (404 otherwise) and has the view's scope (403)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        super().has_permission(request, view)
        key: ApiKey = request.auth
        if key.organization.slug != view.kwargs.get("org_id"):
            # Never reveal that another organization exists.
            raise exceptions.NotFound()
        scope = getattr(view, "required_scope", None)
        if scope and not key.has_scope(scope):
            raise exceptions.PermissionDenied(f"This API key lacks the '{scope}' scope.", code="missing_scope")
        return True

"""The base class of the integrator API's views: an organization acting through its API key
(the API's conventions, pagination and Idempotency-Key, from apps.api)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.idempotency import (
    Replay,
    idempotency_abandon,
    idempotency_begin,
    idempotency_finish,
    idempotency_replay,
)
from apps.api.pagination import CursorPagination
from apps.audit.services import Actor
from apps.organizations.models import ApiKey, Organization
from apps.organizations.permissions import HasOrgScope, request_api_key


class OrgAPIView(APIView):
    """A view under /api/v1/orgs/{org_id}/ acting for the key's organization.

    Subclasses set `required_scope`. Another organization's path → 404; missing scope → 403.
    """

    # This docstring is for developers: the schema describes an operation by its own view's
    # (apps.api.schema.AutoSchema.get_description stops here).
    internal_docstring = True

    permission_classes = [HasOrgScope]
    # Read by drf-spectacular: a list response (`many=True`) is then documented as a page
    # `{results, next, previous}`, which is what list views answer.
    pagination_class = CursorPagination
    required_scope: str = ""
    _idempotency = None

    @property
    def organization(self) -> Organization:
        return request_api_key(self.request).organization

    @property
    def api_key(self) -> ApiKey:
        return request_api_key(self.request)

    @property
    def actor(self) -> Actor:
        return Actor.api_key(request_api_key(self.request))

    def paginate(
        self,
        queryset: Any,
        serializer_class: type,
        context: dict[str, Any] | None = None,
        each: Callable[[Any], Any] | None = None,
    ) -> Response:
        """One cursor page of `queryset`, shaped by `serializer_class`; `each` (e.g. a read-time
        guard) replaces every object of the page first, as the object's own GET would."""
        paginator = CursorPagination()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        if each is not None:
            page = [each(obj) for obj in page]
        return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        self._idempotency = idempotency_begin(request, api_key=api_key)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, Replay):
            return idempotency_replay(exc.record)
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._idempotency is not None:
            record, self._idempotency = self._idempotency, None
            idempotency_finish(record, response)
        return response

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # An unexpected error must not leave the idempotency record claiming "in flight".
        try:
            return super().dispatch(request, *args, **kwargs)
        except Exception:
            if self._idempotency is not None:
                idempotency_abandon(self._idempotency)
            raise

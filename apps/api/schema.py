"""OpenAPI generation: every operation documents the error responses it can give."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular import openapi
from drf_spectacular.plumbing import get_doc
from drf_spectacular.utils import OpenApiParameter

from apps.api.serializers import ErrorResponseSerializer

ERROR_DESCRIPTIONS = {
    400: "Invalid input; `field` names the input at fault.",
    401: "Missing or invalid API key.",
    403: "The API key lacks the scope this operation needs, or the action is not permitted.",
    404: "No such object in this organization.",
    409: "The object's current state forbids this action.",
    410: "The data existed and has been purged.",
    411: "The body was sent without a Content-Length (chunked); send its length.",
    413: "The request body is larger than 3 MiB (`too_large`); nothing was read or changed.",
    422: "The Idempotency-Key was already used with a different request.",
    429: "Rate limited; see the Retry-After header.",
}


class AutoSchema(openapi.AutoSchema):
    def _error_codes(self) -> set[int]:
        view = self.view
        codes: set[int] = {400}
        # A permission class that needs the API key says so (apps.organizations.permissions.HasApiKey).
        if any(getattr(p, "requires_api_key", False) for p in getattr(view, "permission_classes", [])):
            codes |= {401, 403, 429}
        if "{" in self.path:
            codes.add(404)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.add(409)
        if self.method in ("POST", "PUT", "PATCH"):
            codes |= {411, 413}  # apps.core.body_limits, before the view
        if self.method == "POST" and 401 in codes:
            codes.add(422)
        codes |= set(getattr(view, "extra_error_codes", ()))
        return codes

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in sorted(self._error_codes()):
            if str(code) not in responses:
                response = self._get_response_for_code(ErrorResponseSerializer, str(code), direction=direction)
                # A view may say what a code means for one of its methods: {"POST": {403: "..."}}.
                described = getattr(self.view, "error_descriptions", {}).get(self.method, {})
                response["description"] = described.get(code) or ERROR_DESCRIPTIONS.get(code, "Error.")
                if code == 429:
                    response["headers"] = {
                        "Retry-After": {
                            "description": "Seconds to wait before retrying.",
                            "schema": {"type": "integer"},
                        }
                    }
                responses[str(code)] = response
        return responses

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        """A field the serializer leaves out when empty (`omitted_when_empty`) is not `required`."""
        result = super()._map_basic_serializer(serializer, direction)
        omitted = set(getattr(serializer, "omitted_when_empty", ()))
        if omitted and "required" in result:
            result["required"] = [name for name in result["required"] if name not in omitted]
            if not result["required"]:
                del result["required"]
        return result

    # drf-spectacular's AutoSchema.get_description takes no arguments (DRF's ViewInspector's takes two).
    def get_description(self) -> str:  # type: ignore[override]
        """The method's or the concrete view's docstring, never the developer notes of a base view
        that sets `internal_docstring` (OrgAPIView)."""
        method_doc = get_doc(getattr(self.view, self.method.lower(), None))
        if method_doc:
            return method_doc
        for cls in type(self.view).__mro__:
            if cls.__dict__.get("internal_docstring") or cls.__module__.startswith("rest_framework"):
                break
            if cls.__doc__:
                return get_doc(cls)
        return ""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "POST" and 422 in self._error_codes():
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    str,
                    OpenApiParameter.HEADER,
                    description="Send a unique value; a repeat with the same value and body returns the first response.",
                )
            )
        return parameters


def drop_trailing_slash_twins(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """drf-spectacular preprocessing hook: document each path once, without the slash."""
    return [e for e in endpoints if not e[0].endswith("/")]


def _object_links(id_param: str, id_pointer: str, *operation_ids: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Links from a response holding an object to the operations on that object."""
    parameters = {"path.org_id": "$request.path.org_id", f"path.{id_param}": f"$response.body#{id_pointer}"}
    return {operation_id: (operation_id, parameters) for operation_id in operation_ids}


_SESSION_TOKEN = {
    "path.session_id": "$response.body#/session_id",
    "header.X-Session-Token": "$response.body#/session_token",
}

# (operationId, status) → {link name: (target operationId, parameters)}: how an integrator
# goes from the object it created to what it can do with it next.
LINKS: dict[tuple[str, str], dict[str, tuple[str, dict[str, str]]]] = {
    ("identities_create", "201"): _object_links(
        "identity_id", "/id", "identities_retrieve", "identities_update", "identities_resend_invitation"
    ),
    ("activities_create", "201"): _object_links(
        "activity_id",
        "/id",
        "activities_retrieve",
        "activities_details",
        "activities_accept",
        "activities_decline",
        "activities_complete",
        "activities_withdraw",
    ),
    ("processes_create", "201"): _object_links(
        "process_id", "/processId", "processes_retrieve", "processes_cancel", "processes_fullresult"
    ),
    ("identifications_otp_create", "201"): _object_links(
        "admin_identification_id",
        "/id",
        "identifications_otp_retrieve",
        "identifications_otp_cancel",
        "identifications_otp_resend",
        "identifications_otp_destroy",
    ),
    ("sessions_create", "201"): {
        **_object_links("session_id", "/session_id", "sessions_decision"),
        "sessions_decision_by_session_id": (
            "sessions_decision_by_session_id",
            {"path.session_id": "$response.body#/session_id"},
        ),
        "sessions_status": ("sessions_status", _SESSION_TOKEN),
        "sessions_renew": ("sessions_renew", _SESSION_TOKEN),
    },
    ("webhooks_create", "201"): _object_links(
        "webhook_id",
        "/id",
        "webhooks_retrieve",
        "webhooks_delete",
        "webhooks_deliveries_list",
        "webhooks_ping",
        "webhooks_rotate_secret",
    ),
    ("webhooks_deliveries_list", "200"): {
        "webhooks_deliveries_redeliver": (
            "webhooks_deliveries_redeliver",
            {
                "path.org_id": "$request.path.org_id",
                "path.webhook_id": "$request.path.webhook_id",
                "path.delivery_id": "$response.body#/results/0/id",
            },
        )
    },
}


def add_links(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: OpenAPI links from each created object to its operations."""
    operations = {
        operation.get("operationId"): operation
        for path_item in result.get("paths", {}).values()
        for operation in path_item.values()
        if isinstance(operation, dict)
    }
    for (operation_id, status), links in LINKS.items():
        response = operations.get(operation_id, {}).get("responses", {}).get(status)
        if response is None:
            continue
        response["links"] = {
            name: {"operationId": target, "parameters": parameters}
            for name, (target, parameters) in links.items()
            if target in operations
        }
    return result

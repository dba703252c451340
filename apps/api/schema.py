"""OpenAPI generation: every operation documents the error responses it can give."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter

from apps.api.serializers import ErrorResponseSerializer

ERROR_DESCRIPTIONS = {
    400: "Invalid input; `field` names the input at fault.",
    401: "Missing or invalid API key.",
    403: "The API key lacks the scope this operation needs, or the action is not permitted.",
    404: "No such object in this organization.",
    409: "The object's current state forbids this action.",
    410: "The data existed and has been purged.",
    422: "The Idempotency-Key was already used with a different request.",
    429: "Rate limited; see the Retry-After header.",
}


class AutoSchema(openapi.AutoSchema):
    def _error_codes(self) -> set[int]:
        from apps.organizations.permissions import HasApiKey

        view = self.view
        codes: set[int] = {400}
        if any(isinstance(p, type) and issubclass(p, HasApiKey) for p in getattr(view, "permission_classes", [])):
            codes |= {401, 403, 429}
        if "{" in self.path:
            codes.add(404)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.add(409)
        if self.method == "POST" and 401 in codes:
            codes.add(422)
        codes |= set(getattr(view, "extra_error_codes", ()))
        return codes

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in sorted(self._error_codes()):
            if str(code) not in responses:
                response = self._get_response_for_code(ErrorResponseSerializer, str(code), direction=direction)
                response["description"] = ERROR_DESCRIPTIONS.get(code, "Error.")
                responses[str(code)] = response
        return responses

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

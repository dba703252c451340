from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail


class ErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable error code, e.g. `required`, `state_conflict`.")
    message = serializers.CharField(help_text="A sentence a person can read.")
    field = serializers.CharField(required=False, help_text="The input field at fault, when there is one.")


class ErrorResponseSerializer(serializers.Serializer):
    errors = ErrorItemSerializer(many=True)  # type: ignore[assignment]  # a declared field (DRF's metaclass moves it off the class), not the stubs' Serializer.errors


class StrictSerializer(serializers.Serializer):
    """Rejects fields it does not know (400 naming them) instead of silently ignoring typos.

    `read_only_input` names output fields that must not be sent (e.g. id, state).
    """

    read_only_input: tuple[str, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        errors: dict[str, Any] = {}
        if isinstance(data, QueryDict):
            # Query parameters: a blank value is validated as given (`?cursor=` → 400), not
            # taken for an omitted one as DRF does with form input.
            data = data.dict()
        if isinstance(data, dict):
            for name in data:
                field = self.fields.get(name)
                if name in self.read_only_input:
                    message = "This field is set by the server and must not be sent."
                    errors[name] = [ErrorDetail(message, code="read_only")]
                elif field is None or field.read_only:
                    errors[name] = [ErrorDetail("Unknown field.", code="unknown_field")]
                elif (
                    isinstance(field, serializers.CharField)
                    and data[name] is not None
                    and not isinstance(data[name], str)
                ):
                    # DRF turns 0 or 1.5 into "0" or "1.5"; a text field takes only a JSON string.
                    errors[name] = [ErrorDetail("Not a valid string.", code="invalid")]
                elif (
                    isinstance(field, serializers.CharField)
                    and isinstance(data[name], str)
                    and field.max_length is not None
                    and len(data[name]) > field.max_length
                ):
                    # DRF trims whitespace before it checks the length, so "\n" + 150 letters
                    # passed a 150-character limit the schema states (maxLength): the length sent counts.
                    limit = field.max_length
                    errors[name] = [
                        ErrorDetail(f"Ensure this field has no more than {limit} characters.", code="max_length")
                    ]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            raise serializers.ValidationError({**exc.detail, **errors}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return value

"""The webhook events in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from apps.webhooks.events import EVENT_DATA_SCHEMAS, event_envelope_schema


def add_event_components(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: webhook event payloads as named components."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for event_type, data_schema in EVENT_DATA_SCHEMAS.items():
        name = "Event" + "".join(part.capitalize() for part in event_type.replace(".", "_").split("_"))
        schemas[name] = {
            **event_envelope_schema(event_type, data_schema),
            "description": f"Body of a `{event_type}` webhook, signed per Standard Webhooks.",
        }
    return result

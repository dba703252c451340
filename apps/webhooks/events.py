"""The event catalogue: which audit transitions become which events, and their payloads."""

from __future__ import annotations

from typing import Any

from apps.audit.events import previous_shown
from apps.audit.models import Transition

PING = "webhook.ping"

# event type → the name of the state key in its payload
EVENT_TYPES: dict[str, str] = {
    "identity.state_changed": "state",
    "activity.status_changed": "status",
    "process.status_changed": "status",
    "identification.status_changed": "status",
    "session.status_changed": "status",
    PING: "",
}


def event_data(transition: Transition) -> dict[str, Any]:
    """The event's `data`: the transition's snapshot plus the state it left."""
    key = EVENT_TYPES.get(transition.event_type, "state")
    data = dict(transition.data)
    data.setdefault(key, transition.to_state)
    data[f"previous_{key}"] = transition.from_state or None
    # A state the model never shows as stored (an activity's PENDING) as its payload shows it.
    data.update(previous_shown(transition))
    if transition.reason:
        data.setdefault("reason", transition.reason)
    return data


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


_UUID = {"type": "string", "format": "uuid"}
_STATE = {"type": "string"}
_NULLABLE_STATE = {"type": "string", "nullable": True}
_SESSION_STATUSES = ["initialized", "retrieved", "confirmed", "declined", "expired"]
_IDENTIFICATION_STATUSES = ["CREATED", "IN_PROGRESS", "IDENTIFIED", "FAILED", "CANCELED", "EXPIRED"]

# Payload schemas published in the OpenAPI document (components), one per event type.
EVENT_DATA_SCHEMAS: dict[str, dict[str, Any]] = {
    "identity.state_changed": _object(
        {
            "id": _UUID,
            "state": {"type": "string", "enum": ["INVITED", "ACTIVE", "DEACTIVATED"]},
            "previous_state": {"type": "string", "enum": ["INVITED", "ACTIVE", "DEACTIVATED"], "nullable": True},
            "managed": {"type": "boolean"},
            "reason": {"type": "string"},
        },
        ["id", "state", "previous_state", "managed"],
    ),
    "identification.status_changed": _object(
        {
            "id": _UUID,
            "status": {"type": "string", "enum": [*_IDENTIFICATION_STATUSES, "DELETED"]},
            "previous_status": {"type": "string", "enum": _IDENTIFICATION_STATUSES, "nullable": True},
            "two_factor_type": {
                "type": "string",
                "enum": ["DOCUMENT_NUMBER", "EMAIL", "PERSONAL_DOCUMENT_IMAGE"],
                "nullable": True,
            },
            "channel": {"type": "string", "enum": ["EMAIL", "SMS"]},
            "reason": {"type": "string"},
        },
        ["id", "status", "previous_status", "two_factor_type", "channel"],
    ),
    "session.status_changed": _object(
        {
            "session_id": _UUID,
            "status": {"type": "string", "enum": _SESSION_STATUSES},
            "previous_status": {"type": "string", "enum": _SESSION_STATUSES, "nullable": True},
            "replaced_by": _UUID,
            "reason": {"type": "string"},
        },
        ["session_id", "status", "previous_status"],
    ),
    PING: _object({"endpoint_id": _UUID, "message": {"type": "string"}}, ["endpoint_id"]),
}


def event_envelope_schema(event_type: str, data_schema: dict[str, Any]) -> dict[str, Any]:
    return _object(
        {
            "id": {"type": "string", "description": "Also sent as the webhook-id header; stable across retries."},
            "type": {"type": "string", "enum": [event_type]},
            "created_at": {"type": "string", "format": "date-time"},
            "data": data_schema,
        },
        ["id", "type", "created_at", "data"],
    )

from __future__ import annotations


class StateConflict(Exception):
    """The object's current state forbids the requested change (HTTP 409)."""

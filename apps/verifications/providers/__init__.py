"""Provider adapters: one module per provider, each with a pure `evaluate(raw, process_type=None) -> Outcome`.

`raw` is the process's providerSpecific when it finishes: what every callback carried, merged
in order (apps.verifications.services.provider_specific_merge). Adapters do no I/O, so every
seed example is a unit test (the examples live in samples/<provider>/*.json and double as the
sandbox's payloads).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

PROVIDERS = ("onfido", "eid", "readid", "facetec", "signicatpaper", "connect")

PROVIDER_LABELS = {
    "onfido": "Onfido",
    "eid": "Electronic IDentification",
    "readid": "ReadID",
    "facetec": "FaceTec",
    "signicatpaper": "Signicat Paper",
    "connect": "Signicat Connect",
    "sandbox": "Sandbox",
}


def provider_label(provider: str) -> str:
    """A verification provider's display name ("connect:bankid" → "Signicat Connect")."""
    return PROVIDER_LABELS.get((provider or "").split(":", 1)[0], provider)


# processType values per provider; None means the provider takes none.
PROCESS_TYPES: dict[str, tuple[str, ...] | None] = {
    "onfido": ("document", "documentSelfie", "documentVideo"),
    "eid": ("attended", "unattended", "substantial"),
    "readid": ("ready",),
    "facetec": None,
    "signicatpaper": None,
    "connect": None,
}


@dataclass(frozen=True)
class Outcome:
    """What a finished process comes to: final status, the providerSpecific block to show,
    the finalResult (accepted only; normalised except for connect), and the failReason when
    the result could not be used at all (failed)."""

    status: str  # accepted | rejected | inconclusive | canceled | failed
    provider_specific: dict[str, Any] = field(default_factory=dict)
    final_result: dict[str, Any] | None = None
    fail_reason: dict[str, Any] | None = None


def adapter(provider: str) -> ModuleType:
    """The adapter module of `provider` (`connect:idin` → connect)."""
    name = provider.split(":", 1)[0]
    if name not in PROVIDERS:
        raise KeyError(provider)
    return importlib.import_module(f"apps.verifications.providers.{name}")


def evaluate(
    provider: str,
    raw: dict[str, Any],
    *,
    process_type: str | None = None,
    keys: Mapping[str, Any] | None = None,
    unverified_jwt_allowed: bool = False,
) -> Outcome:
    """Run `provider`'s mapping rules. `keys` (kid → jwt.PyJWK) and `unverified_jwt_allowed` are
    passed to connect, which checks a plain-JWT userInfo's signature with them."""
    if provider.split(":", 1)[0] == "connect":
        return adapter(provider).evaluate(
            raw, process_type=process_type, keys=keys, unverified_jwt_allowed=unverified_jwt_allowed
        )
    return adapter(provider).evaluate(raw, process_type=process_type)


def provider_keys(jwks: dict[str, Any] | None) -> dict[str, Any] | None:
    """A JWKS document (as configured in PROVIDER_JWKS) → {kid: jwt.PyJWK}, or None if not configured."""
    if not jwks:
        return None
    import jwt

    return {key.key_id or "": key for key in jwt.PyJWKSet.from_dict(jwks).keys}

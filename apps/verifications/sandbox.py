"""The sandbox provider: a tester picks a provider and an outcome, and the portal replays that
provider's real payload shape (the seed examples in providers/samples/) through the normal path.

Only where settings.SANDBOX_ENABLED (local and test settings). Its results are test data: the
process stays `provider: "sandbox"`, and they never become a person's verified details."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from apps.verifications.models import FINAL_STATUSES
from apps.verifications.providers import PROCESS_TYPES, PROVIDER_LABELS, PROVIDERS

SAMPLES = Path(__file__).resolve().parent / "providers" / "samples"


@lru_cache(maxsize=1)
def sandbox_samples() -> dict[str, dict[str, dict[str, Any]]]:
    """{provider: {sample name: Get-process JSON}} for every shipped example."""
    samples: dict[str, dict[str, dict[str, Any]]] = {}
    for provider in PROVIDERS:
        folder = SAMPLES / provider
        if folder.is_dir():
            loaded = {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}
            # Only complete "Get process" examples with a final status can be replayed.
            samples[provider] = {
                name: sample
                for name, sample in loaded.items()
                if isinstance(sample, dict) and sample.get("status") in FINAL_STATUSES
            }
    return samples


def sandbox_choices(*, face_only: bool = False) -> list[tuple[str, str, str]]:
    """(provider, sample name, label) for the sandbox page. A face check (`face_only`: the process
    is an authorization's BioFace check) offers FaceTec's outcomes only: no document, no names."""
    choices = []
    for provider, named in sandbox_samples().items():
        if face_only and provider != "facetec":
            continue
        for name, sample in named.items():
            label = f"{PROVIDER_LABELS[provider]}: {name.replace('_', ' ').replace('jwt', 'JWT')}"
            if not name.startswith(sample["status"]):
                label += f" ({sample['status']})"
            choices.append((provider, name, label))
    return choices


def sandbox_callback(provider: str, name: str) -> tuple[str, dict[str, Any], dict[str, Any] | None, str | None]:
    """The callback a provider would send for this sample: (event, providerSpecific, failReason, processType)."""
    sample = sandbox_samples()[provider][name]
    status = sample.get("status")
    if status == "failed":
        event = "failed"
    elif status == "canceled" and not (sample.get("providerSpecific") or {}).get("error"):
        event = "canceled"
    else:
        event = "finished"
    provider_specific = sample.get("providerSpecific") or {}
    return (
        event,
        provider_specific,
        sample.get("failReason"),
        sample.get("processType") or _default_type(provider, provider_specific),
    )


def _default_type(provider: str, provider_specific: dict[str, Any]) -> str | None:
    """Some seed examples omit processType; pick the one their payload was made with."""
    allowed = PROCESS_TYPES.get(provider)
    if not allowed:
        return None
    if provider == "onfido" and "facialSimilarity" in provider_specific:
        return "documentSelfie"
    return allowed[0]

"""The connector interface: how the portal starts a process at a provider the organization has
connected, and how the provider's answer comes back (docs/providers.md).

A connector is stateless; everything it keeps between `start` and the provider's answer lives
on the process's ProviderRun (`reference`, `url`, and `data`, encrypted). Connectors talk to the
provider; the mapping rules stay in apps.verifications.providers.<name>.evaluate, which the
results go through (apps.verifications.services.process_apply_provider_result).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings

from apps.verifications.models import ProviderConnection, ProviderRun, VerificationProcess
from apps.webhooks.destinations import UnsafeDestination, destination_check


@dataclass(frozen=True)
class Started:
    """What `start` gives back: the person's `url` at the provider, the provider's own id of
    the run (`reference`, to find the process from a webhook) and what to keep server-side."""

    url: str
    reference: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Collected:
    """A provider's result, as a callback would carry it (services.process_apply_provider_result)."""

    event: str  # finished | canceled | failed
    provider_specific: dict[str, Any] = field(default_factory=dict)
    raw_result: Any = None
    fail_reason: dict[str, Any] | None = None


class ProviderError(Exception):
    """The provider answered an error (after retries) or could not be reached: the process fails
    with `fail_reason`."""

    def __init__(self, message: str, *, fail_type: str = "provider_error", status: int | None = None) -> None:
        super().__init__(message)
        self.fail_reason: dict[str, Any] = {"type": fail_type, "message": message}
        if status is not None:
            self.fail_reason["status"] = status


def provider_url_check(url: str) -> str:
    """Refuse a provider URL the portal must not fetch: not http(s), credentials in it, or a host
    resolving to a private, loopback, link-local or reserved address (an organization's settings
    and a provider's discovery document name these URLs; without this check they could point the
    portal at its own network). PROVIDERS_ALLOW_PRIVATE_NETWORKS lifts the address rule."""
    try:
        destination_check(url, allow_private=django_settings.PROVIDERS_ALLOW_PRIVATE_NETWORKS, require_https=False)
    except UnsafeDestination as exc:
        raise ProviderError(f"The provider URL is refused: {exc}", fail_type="provider_config") from None
    return url


def provider_url_precheck(url: str) -> str | None:
    """The check when an organization saves its settings: the reason a URL is refused now, or
    None. A host that does not resolve yet passes (every fetch checks again)."""
    try:
        provider_url_check(url)
    except ProviderError as exc:
        message = str(exc)
        return None if "does not resolve" in message else message.removeprefix("The provider URL is refused: ")
    return None


class ReturnRejected(Exception):
    """A return from the provider the portal did not send (unknown, tampered or expired state)."""


class WebhookRejected(Exception):
    """A webhook that is not the provider's (bad signature) or not for this organization."""


class Connector(ABC):
    """One provider's hand-off. Subclasses set `provider` and implement the methods below; the
    `register` decorator makes them known by provider name."""

    provider: str = ""
    # The settings' fields: required ones, optional ones with their default, and the secrets
    # among them (never shown, write-only in the back office).
    required: tuple[str, ...] = ()
    optional: Mapping[str, Any] = {}
    secrets: tuple[str, ...] = ()

    @abstractmethod
    def clean_settings(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Check an organization's settings; answer them cleaned (defaults filled in) or raise
        django.core.exceptions.ValidationError keyed by field."""

    @abstractmethod
    def start(self, process: VerificationProcess, connection: ProviderConnection) -> Started:
        """Start `process` at the provider; raise ProviderError when the provider refuses."""

    def handle_webhook(self, *, body: bytes, headers: Mapping[str, str], connection: ProviderConnection) -> str | None:
        """A message from the provider for the organization of `connection`: check it is the
        provider's (raise WebhookRejected if not; ValidationError if malformed). Answers the
        `reference` of a run whose result is ready to `collect`, or None (nothing to do)."""
        raise NotImplementedError(f"{self.provider} sends no webhooks")

    def collect(self, process: VerificationProcess, run: ProviderRun) -> Collected:
        """Read a finished run's result back from the provider (in a Celery task, retried with
        backoff while this raises ProviderError)."""
        raise NotImplementedError(f"{self.provider} has no result to read back")

    def handle_return(self, query: Mapping[str, str]) -> tuple[VerificationProcess, Collected]:
        """The person comes back from the provider (a browser redirect with `query`): the process
        and its result. Raise ReturnRejected when the return is not one the portal sent out."""
        raise NotImplementedError(f"{self.provider} sends no one back")


_REGISTRY: dict[str, Connector] = {}


def register(cls: type[Connector]) -> type[Connector]:
    """Class decorator: make `cls` the connector of `cls.provider`."""
    if not cls.provider:
        raise ValueError(f"{cls.__name__} names no provider")
    _REGISTRY[cls.provider] = cls()
    return cls


def connector_for(provider: str) -> Connector | None:
    """The connector of a provider family (`connect:idin` → connect), or None (signed callbacks)."""
    return _REGISTRY.get(provider.split(":", 1)[0])


def connectors() -> dict[str, Connector]:
    return dict(_REGISTRY)

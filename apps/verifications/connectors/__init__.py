"""Connectors: processes started at the organization's own provider account (docs/providers.md).

Importing this package registers every connector; `connector_for(provider)` finds one."""

from __future__ import annotations

from apps.verifications.connectors import connect, onfido
from apps.verifications.connectors.base import Connector, ProviderError, Started, connector_for, connectors

__all__ = ["Connector", "ProviderError", "Started", "connect", "connector_for", "connectors", "onfido"]

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.validators import URLValidator
from rest_framework import serializers

from apps.api.serializers import StrictSerializer
from apps.verifications.links import process_url
from apps.verifications.models import ProcessStatus, VerificationProcess
from apps.verifications.services import CALLBACK_EVENTS
from apps.webhooks.fields import NotificationUrlField


class ProcessCreateSerializer(StrictSerializer):
    read_only_input = ("processId", "status", "url", "createdAt", "updatedAt", "finalResult", "providerSpecific")

    provider = serializers.CharField(
        max_length=64,
        help_text=(
            "onfido, eid, readid, facetec, signicatpaper, connect, connect:<method> (e.g. connect:idin) or sandbox "
            "(only where the sandbox is enabled; its results are test data)."
        ),
    )
    processType = serializers.CharField(
        source="process_type",
        max_length=32,
        required=False,
        allow_blank=True,
        help_text="onfido: document, documentSelfie, documentVideo; eid: attended, unattended, substantial; readid: ready.",
    )
    notificationUrl = NotificationUrlField(source="notification_url", max_length=2000, required=False, allow_blank=True)
    redirectUrl = serializers.URLField(
        source="redirect_url",
        max_length=2000,
        required=False,
        allow_blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
    )
    identityId = serializers.UUIDField(source="identity_id", required=False, allow_null=True)
    activityId = serializers.UUIDField(
        source="activity_id",
        required=False,
        allow_null=True,
        help_text="An AT_004 authorization this process checks (BioFace); the process must be its receptor's.",
    )


class ProcessSerializer(serializers.Serializer):
    """The seed's "Get process" shape."""

    # Absent rather than null, as in the seed's examples (and so not `required` in the schema).
    omitted_when_empty = (
        "processType",
        "notificationUrl",
        "redirectUrl",
        "finalResult",
        "failReason",
        "identityId",
        "activityId",
    )

    processId = serializers.UUIDField(source="id")
    provider = serializers.CharField()
    processType = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=ProcessStatus.choices)
    url = serializers.SerializerMethodField(
        help_text=(
            "Where the person verifies: the portal's hosted page, or, for a provider the organization has connected, "
            "the provider's own (Onfido's hosted link, the OpenID provider's authorization URL)."
        )
    )
    identityId = serializers.UUIDField(source="identity_id", allow_null=True)
    activityId = serializers.UUIDField(source="activity_id", allow_null=True)
    notificationUrl = serializers.SerializerMethodField()
    redirectUrl = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")
    redactionRequested = serializers.SerializerMethodField(
        help_text=(
            "True once the person or staff asked for the process's personal data to be redacted: status and "
            "timestamps stay, providerSpecific is empty, finalResult and the raw result are gone for good."
        )
    )
    providerSpecific = serializers.SerializerMethodField(
        help_text=(
            "The provider's data, filled in gradually: each callback's providerSpecific is merged in as it arrives "
            "(objects key by key, recursively; any other value from the later callback replaces the earlier). "
            "For provider `sandbox` it is the replayed provider's sample (test data)."
        )
    )
    finalResult = serializers.SerializerMethodField(
        help_text=(
            "Accepted processes only; normalised except for connect. A sandbox process's finalResult is test data "
            "and never becomes a person's verified details."
        )
    )
    failReason = serializers.SerializerMethodField(
        help_text="Failed processes only. `unverifiable_userinfo`: a connect userInfo JWT that could not be verified."
    )

    def get_processType(self, process: VerificationProcess) -> str | None:
        return process.process_type or None

    def get_url(self, process: VerificationProcess) -> str:
        try:
            run = process.provider_run
        except ObjectDoesNotExist:
            run = None
        # Started at the organization's connected provider: its hosted link or authorization URL.
        return run.url if run is not None and run.url else process_url(process)

    def get_notificationUrl(self, process: VerificationProcess) -> str | None:
        return process.notification_url or None

    def get_redirectUrl(self, process: VerificationProcess) -> str | None:
        return process.redirect_url or None

    def get_redactionRequested(self, process: VerificationProcess) -> bool:
        return process.redaction_requested

    def get_providerSpecific(self, process: VerificationProcess) -> dict[str, Any]:
        return process.provider_specific or {}

    def get_finalResult(self, process: VerificationProcess) -> dict[str, Any] | None:
        return process.final_result if process.status == ProcessStatus.ACCEPTED else None

    def get_failReason(self, process: VerificationProcess) -> dict[str, Any] | None:
        return process.fail_reason if process.status == ProcessStatus.FAILED else None

    def to_representation(self, process: VerificationProcess) -> dict[str, Any]:
        data = super().to_representation(process)
        for key in self.omitted_when_empty:
            if data.get(key) is None:
                data.pop(key, None)
        return data


class ProcessListQuerySerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=ProcessStatus.choices, required=False)
    provider = serializers.CharField(required=False, max_length=64)
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)


class ProviderCallbackSerializer(StrictSerializer):
    processId = serializers.UUIDField()
    event = serializers.ChoiceField(choices=CALLBACK_EVENTS)
    providerSpecific = serializers.DictField(
        required=False,
        default=dict,
        help_text="Merged into the process's providerSpecific at once, whatever the event (filled in gradually).",
    )
    failReason = serializers.DictField(required=False, allow_null=True, default=None)
    rawResult = serializers.JSONField(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "The provider's raw result as it arrived (any JSON, sub-breakdowns included): kept encrypted and "
            "served only as provider-result.json in the full result. The latest one sent wins."
        ),
    )


class ProviderCallbackResponseSerializer(serializers.Serializer):
    processId = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ProcessStatus.choices)


class OnfidoSettingsSerializer(serializers.Serializer):
    """PUT body for onfido (documented shape; the connector checks it)."""

    api_token = serializers.CharField(write_only=True, help_text="An Onfido API token (sandbox or live).")
    webhook_token = serializers.CharField(write_only=True, help_text="The token of the Onfido webhook (signatures).")
    workflow_id = serializers.UUIDField(help_text="The Onfido Studio workflow to run.")
    api_url = serializers.URLField(required=False, help_text="Default https://api.eu.onfido.com/v3.6.")


class ConnectSettingsSerializer(serializers.Serializer):
    """PUT body for connect (documented shape; the connector checks it)."""

    issuer = serializers.URLField(help_text="The OpenID provider's issuer; its discovery document is read.")
    client_id = serializers.CharField()
    client_secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, help_text="Empty for a public client (PKCE only)."
    )
    scopes = serializers.CharField(required=False, help_text="Space-separated, with openid. Default `openid profile`.")


class ConnectionListQuerySerializer(StrictSerializer):
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)


class ProviderConnectionSerializer(serializers.Serializer):
    """A connection: which provider, since when. Its settings are never returned."""

    provider = serializers.CharField()
    connected = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    def get_connected(self, connection: Any) -> bool:
        return True


class ProviderWebhookResponseSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    processId = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=ProcessStatus.choices, required=False)

"""django-oauth-toolkit's request validator, as the portal needs it: pairwise subjects, names
from the person's details, and "last use" of a connection at every token issued."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from oauth2_provider.models import get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator

from apps.core.crypto import lookup_hash
from apps.oauth.services import connection_touch

logger = logging.getLogger(__name__)


def pairwise_subject(*, client_id: str, person_id: Any) -> str:
    """The `sub` an app knows a person by: stable for that app, different for every other app,
    and neither the email nor the account's id (OpenID Connect Core §8.1, pairwise)."""
    return lookup_hash(f"oidc-sub:{client_id}:{person_id}")


class PortalOAuth2Validator(OAuth2Validator):
    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        # The `profile` scope's claims (the base class leaves them out of a token without it),
        # read by the function OAUTH_PROFILE_CLAIMS names: the person's details belong to a
        # higher layer (apps.people), which this app does not import.
        return import_string(settings.OAUTH_PROFILE_CLAIMS)(request.user)

    def get_claim_dict(self, request: Any) -> dict[str, Any]:
        claims = super().get_claim_dict(request)
        claims["sub"] = pairwise_subject(client_id=request.client.client_id, person_id=request.user.pk)
        return claims

    def get_discovery_claims(self, request: Any) -> list[str]:
        return ["sub", "name", "given_name", "family_name"]

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if not valid:
            # A refresh token that was already rotated, presented again: a copy is in other hands
            # (or the app lost track). django-oauth-toolkit has revoked its family; say so, with
            # ids only (never a token).
            checksum = hashlib.sha256(refresh_token.encode()).hexdigest()
            tokens = get_refresh_token_model().objects
            replayed = tokens.filter(token_checksum=checksum, revoked__isnull=False).first()
            rotated = (
                replayed is not None
                and tokens.filter(token_family=replayed.token_family, created__gt=replayed.created).exists()
            )
            if rotated:
                logger.warning(
                    "A rotated refresh token was used again: every token of its family is revoked (app %s, person %s).",
                    replayed.application_id,
                    replayed.user_id,
                )
        return valid

    def save_bearer_token(self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any) -> Any:
        saved = super().save_bearer_token(token, request, *args, **kwargs)
        if request.user is not None and request.client is not None:
            connection_touch(person_id=request.user.pk, application_id=request.client.pk)
        return saved

"""Timers of people's apps' tokens."""

from __future__ import annotations

from celery import shared_task
from oauth2_provider.models import clear_expired


@shared_task(name="apps.oauth.tasks.purge_expired_tokens", ignore_result=True)
def purge_expired_tokens() -> None:
    """django-oauth-toolkit's own clean-up (`cleartokens`): expired access and ID tokens and
    grants, refresh tokens dead for OAUTH_REFRESH_TOKEN_IDLE_SECONDS, revoked ones once reuse
    detection no longer needs them. Validation already refuses them; this keeps the tables small."""
    clear_expired()

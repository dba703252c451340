from __future__ import annotations

from celery import shared_task

from apps.identities.services import identities_send_unsent_invitations, identity_send_invitation


@shared_task(name="apps.identities.tasks.send_invitation", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation(identity_id: str) -> bool:
    return identity_send_invitation(identity_id=identity_id)


@shared_task(name="apps.identities.tasks.send_unsent_invitations")
def send_unsent_invitations() -> int:
    return identities_send_unsent_invitations()

"""Work that spans every app: a person's account deletion, orchestrated over each app's own
`<app>_forget_person` service."""

from __future__ import annotations

from django.db import transaction

from apps.activities.services import activities_forget_person
from apps.audit.services import Actor
from apps.identities.services import identities_forget_person
from apps.oauth.services import oauth_forget_person
from apps.people.models import User
from apps.people.services import people_forget_person
from apps.transfers.services import transfers_forget_person


class AccountNotDeletable(Exception):
    """Staff accounts are removed by an administrator, not from /me/."""


def person_delete(*, person: User) -> dict[str, int]:
    """Delete a person's account and everything they shared.

    In one transaction, each app forgets them in turn: every sharing they are a party to ends
    now and every request still waiting is declined or withdrawn (activities), confirmed
    data-transfer values are purged and open sessions expire (transfers), their active identities
    are deactivated and unlinked (identities), and their details, proposed updates and account
    are deleted (people). Each state change goes through its state machine, so it is audited and
    emitted as an event; audit rows carry ids and states only, never a personal value."""
    if person.is_staff or person.is_superuser or person.memberships.exists():
        raise AccountNotDeletable("Staff accounts are removed by an administrator.")
    actor = Actor.user(person)
    with transaction.atomic():
        # People's apps lose every token first: nothing acts for the person past this point.
        oauth_forget_person(person=person)
        return {
            **activities_forget_person(person=person, actor=actor),
            **transfers_forget_person(person=person, actor=actor),
            **identities_forget_person(person=person, actor=actor),
            **people_forget_person(person=person),
        }

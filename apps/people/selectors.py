from __future__ import annotations

from typing import Any

from apps.people.models import DetailProposal, PersonalDetail, ProposalStatus, User
from apps.people.vocabulary import DETAILS_BY_NAME


def person_details(*, person: User) -> list[PersonalDetail]:
    """The person's details in vocabulary order."""
    order = {name: index for index, name in enumerate(DETAILS_BY_NAME)}
    return sorted(PersonalDetail.objects.filter(person=person), key=lambda d: order.get(d.name, len(order)))


def person_profile_claims(person: User) -> dict[str, str]:
    """OpenID Connect's `profile` claims of the person, from their details (people's apps' ID
    token and userinfo, scope `profile`; settings.OAUTH_PROFILE_CLAIMS)."""
    names = dict(
        PersonalDetail.objects.filter(person=person, name__in=("first_name", "last_name")).values_list("name", "value")
    )
    claims = {}
    if names.get("first_name"):
        claims["given_name"] = names["first_name"]
    if names.get("last_name"):
        claims["family_name"] = names["last_name"]
    full = " ".join(names[name] for name in ("first_name", "last_name") if names.get(name))
    if full:
        claims["name"] = full
    return claims


def person_detail_proposals(*, person: User) -> list[DetailProposal]:
    """Verified values waiting for the person's confirmation, in vocabulary order."""
    order = {name: index for index, name in enumerate(DETAILS_BY_NAME)}
    pending = DetailProposal.objects.filter(person=person, status=ProposalStatus.PENDING)
    return sorted(pending, key=lambda p: (order.get(p.name, len(order)), p.created_at))


def person_detail_proposal_get(*, person: User, proposal_id: Any) -> DetailProposal | None:
    """One of the person's own proposals (another person's is None: a 404, never a 403)."""
    return DetailProposal.objects.filter(person=person, pk=proposal_id).first()


def person_by_email(email: str) -> User | None:
    return User.objects.filter_by_email(email).first()

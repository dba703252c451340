from __future__ import annotations

from apps.people.models import PersonalDetail, User
from apps.people.vocabulary import DETAILS_BY_NAME


def person_details(*, person: User) -> list[PersonalDetail]:
    """The person's details in vocabulary order."""
    order = {name: index for index, name in enumerate(DETAILS_BY_NAME)}
    return sorted(PersonalDetail.objects.filter(person=person), key=lambda d: order.get(d.name, len(order)))


def person_by_email(email: str) -> User | None:
    return User.objects.filter_by_email(email).first()

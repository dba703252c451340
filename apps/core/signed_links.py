"""Tokens for links that open one object's page: the object's id signed with SECRET_KEY under a
salt of the app that owns the page, so that an id alone opens nothing and one app's token opens
nothing of another's. They do not expire by themselves: the object's own state and deadline
decide what its page shows."""

from __future__ import annotations

from django.core import signing


def signed_link_token(object_id: object, *, salt: str) -> str:
    """The token that goes into the page's URL beside the object's id."""
    return signing.dumps(str(object_id), salt=salt, compress=True)


def signed_link_valid(object_id: object, token: str, *, salt: str) -> bool:
    """Whether `token` was made for this object under this salt."""
    try:
        signed: object = signing.loads(token, salt=salt)
    except signing.BadSignature:
        return False
    return signed == str(object_id)

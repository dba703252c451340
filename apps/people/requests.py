"""The request of a view behind login_required: its user is a signed-in account, never anonymous."""

from __future__ import annotations

from django.http import HttpRequest

from apps.people.models import User


class PersonRequest(HttpRequest):
    """For annotations only: Django's request, with `user` as login_required guarantees it."""

    user: User

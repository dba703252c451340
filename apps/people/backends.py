from __future__ import annotations

from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Sign in with email and password.

    ModelBackend already looks people up through UserManager.get_by_natural_key, which
    hashes the email; this class exists so the backend is named for what it does.
    """

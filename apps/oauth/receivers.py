"""A changed password revokes every app's access to the person (API.md "People's apps": "a
password reset revokes them all"), whichever path changed it: the password-change page, a reset
link, a superuser in the back office, `set_password()` and `save()` anywhere.

"Changed" as Django itself means it (AbstractBaseUser.save runs the validators' password_changed
hooks on it): `set_password()` was called before this save. A hash upgraded at sign-in keeps the
same password, and Django clears that mark for it, so it revokes nothing. A password made unusable
(a superuser disabling password sign-in) counts as a change too."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import is_password_usable
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from apps.audit import reasons
from apps.audit.services import Actor
from apps.oauth.services import oauth_revoke_person

User = get_user_model()


def _password_changing(instance: Any, update_fields: Any) -> bool:
    if instance._state.adding or instance.pk is None:
        return False  # a new account has no tokens
    if update_fields is not None and "password" not in update_fields:
        return False  # e.g. the last_login update at every sign-in
    if getattr(instance, "_password", None) is not None:
        return True
    if is_password_usable(instance.password):
        return False
    stored = User._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    return stored is not None and is_password_usable(stored)


@receiver(pre_save, sender=User, dispatch_uid="oauth.password_change_seen")
def password_change_seen(
    sender: Any, instance: Any, update_fields: Any = None, raw: bool = False, **kwargs: Any
) -> None:
    instance._oauth_password_changed = not raw and _password_changing(instance, update_fields)


@receiver(post_save, sender=User, dispatch_uid="oauth.password_changed")
def password_changed(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if created or not getattr(instance, "_oauth_password_changed", False):
        return
    instance._oauth_password_changed = False
    oauth_revoke_person(person=instance, actor=Actor.system("password change"), reason=reasons.PASSWORD_CHANGED)

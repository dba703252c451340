"""A changed password revokes every app's access to the person (API.md "People's apps": "a
password reset revokes them all"), whichever path changed it: the password-change page, a reset
link, a superuser in the back office, `set_password()` and `save()` anywhere."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from apps.audit.services import Actor
from apps.oauth.services import oauth_revoke_person

User = get_user_model()


@receiver(pre_save, sender=User, dispatch_uid="oauth.password_change_seen")
def password_change_seen(
    sender: Any, instance: Any, update_fields: Any = None, raw: bool = False, **kwargs: Any
) -> None:
    instance._oauth_password_changed = False
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and "password" not in update_fields:
        return  # e.g. the last_login update at every sign-in
    stored = User._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is None or stored == instance.password:
        return
    # A hash upgraded at sign-in (Django's check_password setter) keeps the same password.
    raw_password = getattr(instance, "_password", None)
    if raw_password is not None and stored and check_password(raw_password, stored):
        return
    instance._oauth_password_changed = True


@receiver(post_save, sender=User, dispatch_uid="oauth.password_changed")
def password_changed(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if created or not getattr(instance, "_oauth_password_changed", False):
        return
    instance._oauth_password_changed = False
    oauth_revoke_person(person=instance, actor=Actor.system("password change"), reason="password changed")

"""The back office's own registrations, and those of the apps below it.

- Staff roles (the auth groups), with the back office's neutral admin log.
- django-otp's device admins are not offered: they would show a staff member's TOTP key (a
  superuser could then pass as them); a superuser resets a lost device from the person's page.
- The audit log, the API's idempotency records, people's accounts and organizations: their
  apps sit below the back office, so their admin modules live here (admin_audit,
  admin_idempotency, admin_accounts, admin_organizations) and register on import.
- An identity's page with its person's details composes several apps: apps.portal.admin.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.backoffice import admin_accounts, admin_audit, admin_idempotency, admin_oauth, admin_organizations
from apps.backoffice.admin_privacy import AdminPrivacyMixin
from apps.backoffice.admin_tools import SelectedIdsAdminMixin

# Imported for their registrations (as Django's autodiscovery imports an app's admin module).
REGISTRATIONS = (admin_accounts, admin_audit, admin_idempotency, admin_oauth, admin_organizations)

admin.site.unregister(Group)
for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)


class PermissionAppFilter(admin.AllValuesFieldListFilter):
    """The groups holding a permission of an app: ContentType.app_label has no translated name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = _("app label")


@admin.register(Group)
class StaffGroupAdmin(AdminPrivacyMixin, SelectedIdsAdminMixin, GroupAdmin):
    """The staff roles (viewer, operator, administrator) and any group a superuser adds."""

    list_display = ("name",)
    list_filter = (("permissions__content_type__app_label", PermissionAppFilter),)
    search_fields = ("name",)

"""django.contrib.admin's app config with the back office's site as `admin.site`."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class BackOfficeAdminConfig(AdminConfig):
    """Every admin page then needs a verified second factor (apps.backoffice.sites)."""

    default_site = "apps.backoffice.sites.BackOfficeSite"

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group

admin.site.unregister(Group)


@admin.register(Group)
class StaffGroupAdmin(GroupAdmin):
    """The staff roles (viewer, operator, administrator) and any group a superuser adds."""

    list_display = ("name",)
    list_filter = ("permissions__content_type__app_label",)
    search_fields = ("name",)

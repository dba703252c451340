from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.backoffice.admin_tools import BackOfficeAdmin
from apps.people.crypto import lookup_hash, normalize_email
from apps.people.models import PersonalDetail, User

# Only superusers grant back-office rights; everyone else sees these read-only.
PERMISSION_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


class PersonalDetailInline(admin.TabularInline):
    model = PersonalDetail
    fields = ("name", "value", "source", "verified_by_provider", "verified_by_process_id", "updated_at")
    readonly_fields = ("source", "verified_by_provider", "verified_by_process_id", "updated_at")
    extra = 0


class PersonCreationForm(forms.ModelForm):
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput)

    class Meta:
        model = User
        fields = ("email",)

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password1"])
        if commit:
            user.save()
        return user


@admin.register(User)
class PersonAdmin(BackOfficeAdmin, UserAdmin):
    """People and staff. Email is encrypted, so search matches the exact address (by its HMAC).

    Staff who are not superusers see the people of their organizations: those with an
    identity there and their fellow staff members.
    """

    organization_path = ("identities__organization", "memberships__organization")
    ordering = ("-date_joined",)
    list_display = ("email", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups", "identities__organization", "date_joined")
    search_fields = ("email_hash",)
    search_help_text = "Search by the exact email address."
    date_hierarchy = "date_joined"
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1")}),)
    add_form = PersonCreationForm
    readonly_fields = ("last_login", "date_joined")
    inlines = (PersonalDetailInline,)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        if not search_term:
            return queryset, False
        return queryset.filter(email_hash=lookup_hash(normalize_email(search_term))), False

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return self.inlines if obj else ()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.is_superuser:
            fields += PERMISSION_FIELDS
        return fields


@admin.register(PersonalDetail)
class PersonalDetailAdmin(BackOfficeAdmin):
    """Which details people hold and where each came from; the values show only on the person's page."""

    organization_path = "person__identities__organization"
    list_display = ("person", "name", "source", "verified_by_provider", "updated_at")
    list_filter = ("name", "source", "verified_by_provider", "person__identities__organization", "updated_at")
    list_select_related = ("person",)
    search_fields = ("person__email_hash",)
    search_help_text = "Search by the person's exact email address."
    date_hierarchy = "updated_at"
    fields = ("person", "name", "source", "verified_by_provider", "verified_by_process_id", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[PersonalDetail], search_term: str
    ) -> tuple[QuerySet[PersonalDetail], bool]:
        if not search_term:
            return queryset, False
        return queryset.filter(person__email_hash=lookup_hash(normalize_email(search_term))), False

"""People's accounts and details in the back office, for superusers only. (The people app is
below the back office; what the back office shows of it lives here.)"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.backoffice.admin_tools import BackOfficeAdmin
from apps.backoffice.second_factor import second_factor_reset
from apps.core.crypto import lookup_hash, name_token_hashes, normalize_email
from apps.people.models import PersonalDetail, User


class SuperuserOnlyAdminMixin:
    """Accounts are managed by superusers only (API.md "Pages"): organization staff never see,
    create or change an account, whatever permissions their group holds."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # No row at all for anyone else: a page that looks the row up before it checks the
        # permission (history, object actions) would otherwise answer 403 for an account of the
        # staff member's organization and 404 for any other, telling which ids are theirs.
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return queryset if request.user.is_active and request.user.is_superuser else queryset.none()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


class PersonalDetailInline(admin.TabularInline):
    """A person's details, read-only for everyone: people change their own self-declared values
    on /me/, and a verified value only ever comes from its verification."""

    model = PersonalDetail
    fields = ("name", "value", "source", "verified_by_provider", "verified_by_process_id", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PersonCreationForm(forms.ModelForm):
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput)

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
class PersonAdmin(SuperuserOnlyAdminMixin, BackOfficeAdmin, UserAdmin):
    """People and staff accounts, for superusers only. Email is encrypted, so search matches the
    exact address (by its HMAC). Organization staff see a person through their organization's
    identity of them (apps.portal.admin: which details exist, their provenance, and the
    values the person shared with that organization)."""

    organization_path = ("identities__organization", "memberships__organization")
    ordering = ("-date_joined",)
    list_display = ("email", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups", "identities__organization", "date_joined")
    search_fields = ("email_hash",)
    search_help_text = _("Search by the exact email address, or by name (whole words).")
    date_hierarchy = "date_joined"
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1")}),)
    add_form = PersonCreationForm
    readonly_fields = ("last_login", "date_joined")
    inlines = (PersonalDetailInline,)
    actions = ("reset_second_factor",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        if not search_term.strip():
            return queryset, False
        if "@" in search_term:
            return queryset.filter(email_hash=lookup_hash(normalize_email(search_term))), False
        # A name: people whose identities' names have every word (the identities' blind index).
        digests = name_token_hashes(search_term)
        if not digests:
            return queryset.none(), False
        for digest in digests:
            queryset = queryset.filter(
                pk__in=queryset.model._default_manager.filter(identities__name_tokens__digest=digest)
            )
        return queryset, False

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return self.inlines if obj else ()

    @admin.action(description=_("Reset the second factor (the staff member enrols again at the next sign-in)"))
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            second_factor_reset(user=user)
            self.log_change(request, user, "Second factor reset.")
        count = queryset.count()
        self.message_user(
            request,
            ngettext("Second factor reset for %(n)d account.", "Second factor reset for %(n)d accounts.", count)
            % {"n": count},
            level=messages.SUCCESS,
        )


@admin.register(PersonalDetail)
class PersonalDetailAdmin(SuperuserOnlyAdminMixin, BackOfficeAdmin):
    """Which details people hold and where each came from; the values show only on the person's page."""

    organization_path = "person__identities__organization"
    list_display = ("person", "name", "source", "verified_by_provider", "updated_at")
    list_filter = ("name", "source", "verified_by_provider", "person__identities__organization", "updated_at")
    list_select_related = ("person",)
    search_fields = ("person__email_hash",)
    search_help_text = _("Search by the person's exact email address.")
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

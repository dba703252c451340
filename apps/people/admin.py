from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.people.crypto import lookup_hash, normalize_email
from apps.people.models import PersonalDetail, User


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
class PersonAdmin(UserAdmin):
    """People and staff. Email is encrypted, so search matches the exact address (by its HMAC)."""

    ordering = ("-date_joined",)
    list_display = ("email", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "date_joined")
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

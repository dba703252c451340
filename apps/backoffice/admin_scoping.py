"""Staff see the objects of the organizations they are members of; superusers see everything.

Every back-office ModelAdmin mixes in OrganizationScopedAdminMixin and names the path from
its model to the organization (`organization_path`). The mixin filters the changelist and
every object page (another organization's object answers 404), the choices of foreign keys
and many-to-many fields (in inlines too: ScopedInlineMixin), the organization list filter,
and the lookups a changelist URL may name: through an organization only its exact id, one of
the staff member's; through an account none (a person who is also another organization's
customer must not be found by filtering on that other organization).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext

from apps.organizations.models import Membership, Organization

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


def organization_ids(user: Any) -> list[Any] | None:
    """The organizations `user` works for; None means all of them (a superuser)."""
    if not getattr(user, "is_active", False):
        return []
    if user.is_superuser:
        return None
    cached = getattr(user, "_backoffice_organization_ids", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user).values_list("organization_id", flat=True))
        user._backoffice_organization_ids = cached
    return cached


def organizations_for(user: Any) -> QuerySet[Organization]:
    ids = organization_ids(user)
    organizations = Organization.objects.all()
    return organizations if ids is None else organizations.filter(pk__in=ids)


def _crosses_many(model: type[models.Model], path: str) -> bool:
    """Whether a lookup path goes through a one-to-many or many-to-many relation (rows may repeat)."""
    for name in path.split("__"):
        if name == "pk":
            return False
        field = model._meta.get_field(name)
        if field.one_to_many or field.many_to_many:
            return True
        if field.related_model is None:
            return False
        model = field.related_model
    return False


def scope_queryset(queryset: QuerySet, paths: tuple[str, ...], user: Any) -> QuerySet:
    """`queryset` limited to rows whose organization (through any of `paths`) is one of `user`'s."""
    ids = organization_ids(user)
    if ids is None:
        return queryset
    condition = Q()
    for path in paths:
        condition |= Q(**{f"{path}__in": ids})
    model = queryset.model
    if len(paths) > 1 or any(_crosses_many(model, path) for path in paths):
        # A subquery rather than DISTINCT: the changelist's ordering and deletes keep working.
        return queryset.filter(pk__in=model._default_manager.filter(condition).values("pk"))
    return queryset.filter(condition)


class OrganizationListFilter(admin.RelatedFieldListFilter):
    """The organization filter lists only the organizations the staff member works for."""

    def field_choices(
        self, field: Any, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str | StrPromise]]:
        return [(str(organization.pk), str(organization)) for organization in organizations_for(request.user)]


class OrganizationScopedAdminMixin:
    """Limit a ModelAdmin to the staff member's organizations.

    `organization_path`: the lookup from the model to its organization ("organization",
    "activity__organization", "pk" for Organization itself), or a tuple of them when any
    one is enough (a person belongs to the organizations of their identities and memberships).
    """

    organization_path: str | tuple[str, ...] = "organization"

    def organization_paths(self) -> tuple[str, ...]:
        path = self.organization_path
        return (path,) if isinstance(path, str) else tuple(path)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope_queryset(super().get_queryset(request), self.organization_paths(), request.user)  # type: ignore[misc]

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = []
        for entry in super().get_list_filter(request):  # type: ignore[misc]
            if isinstance(entry, str) and self._is_organization_lookup(entry):
                entry = (entry, OrganizationListFilter)
            filters.append(entry)
        return filters

    def _is_organization_lookup(self, lookup: str) -> bool:
        model = self.model  # type: ignore[attr-defined]
        try:
            for name in lookup.split("__"):
                field = model._meta.get_field(name)
                model = field.related_model
                if model is None:
                    return False
        except FieldDoesNotExist:
            return False
        return model is Organization

    def lookup_allowed(self, lookup: str, value: Any, request: HttpRequest) -> bool:
        return scoped_lookup_allowed(self.model, lookup, value, request) and super().lookup_allowed(  # type: ignore[attr-defined,misc]
            lookup, value, request
        )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        _scope_choices(db_field, request, self.admin_site, kwargs)  # type: ignore[attr-defined]
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        _scope_choices(db_field, request, self.admin_site, kwargs)  # type: ignore[attr-defined]
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str) -> Any:
        # Django redirects to the index with "doesn't exist"; another organization's object
        # (or a missing one) answers a plain 404 instead, which says nothing about it.
        raise Http404(gettext("No %(object)s with this id.") % {"object": opts.verbose_name})


class ScopedInlineMixin:
    """An inline whose foreign-key and many-to-many choices are scoped like its admin's."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        _scope_choices(db_field, request, self.admin_site, kwargs)  # type: ignore[attr-defined]
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        _scope_choices(db_field, request, self.admin_site, kwargs)  # type: ignore[attr-defined]
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


def _scope_choices(db_field: Any, request: HttpRequest, admin_site: admin.AdminSite, kwargs: dict[str, Any]) -> None:
    if "queryset" not in kwargs:
        queryset = scoped_choices(db_field.related_model, request, admin_site)
        if queryset is not None:
            kwargs["queryset"] = queryset


_OWN_ORGANIZATION_LOOKUPS = {"", "exact", "id", "id__exact", "pk", "pk__exact"}


def scoped_lookup_allowed(model: type[models.Model], lookup: str, value: Any, request: HttpRequest) -> bool:
    """Whether a staff member may filter a changelist of `model` by `lookup=value` (see the module)."""
    ids = organization_ids(request.user)
    if ids is None:
        return True
    user_model = get_user_model()
    parts = lookup.split("__")
    for index, name in enumerate(parts):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return True  # a lookup (exact, in, gte...) on the fields walked so far
        related = field.related_model
        if related is None:
            return True
        rest = "__".join(parts[index + 1 :])
        if rest == "isnull":
            return True
        if related is user_model:
            return False
        if related is Organization:
            values = value if isinstance(value, list | tuple) else [value]
            own = {str(pk) for pk in ids}
            return rest in _OWN_ORGANIZATION_LOOKUPS and all(str(v) in own for v in values)
        model = related
    return True


def scoped_choices(model: type[models.Model], request: HttpRequest, admin_site: admin.AdminSite) -> QuerySet | None:
    """The rows of `model` a staff member may pick in a form, or None when nothing limits them."""
    if model is Organization:
        return organizations_for(request.user)
    if model is get_user_model():
        # Only staff accounts can be chosen (as members); organization staff only their fellows.
        staff = model._default_manager.filter(is_staff=True)
        ids = organization_ids(request.user)
        return (
            staff
            if ids is None
            else staff.filter(pk__in=Membership.objects.filter(organization__in=ids).values("user"))
        )
    model_admin = admin_site._registry.get(model)
    if isinstance(model_admin, OrganizationScopedAdminMixin):
        return scope_queryset(model._default_manager.all(), model_admin.organization_paths(), request.user)
    return None

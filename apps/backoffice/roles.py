"""Staff roles: the three groups the back office knows and the permissions each one gets.

Used by the data migration that creates the groups (so it must work with historical
models) and by the tests that check them.
"""

from __future__ import annotations

from typing import Any

VIEWER = "viewer"
OPERATOR = "operator"
ADMINISTRATOR = "administrator"
ROLES = (VIEWER, OPERATOR, ADMINISTRATOR)

# The project's own apps: staff roles never reach Django's auth or session tables. Nor the
# people app: accounts and personal details are managed by superusers only, and organization
# staff see a person through their organization's identity of them (API.md "Pages").
APP_LABELS = (
    "api",
    "audit",
    "organizations",
    "identities",
    "webhooks",
    "verifications",
    "activities",
    "identifications",
    "transfers",
)

EXPORT_PERMISSION = ("backoffice", "export_csv")

# Superusers only, whatever the role: creating or deleting organizations, and who works for
# which (a membership decides which people's data a staff account reaches).
SUPERUSER_ONLY = (
    ("organizations", "add_organization"),
    ("organizations", "delete_organization"),
    ("organizations", "add_membership"),
    ("organizations", "change_membership"),
    ("organizations", "delete_membership"),
)
# Given to no role any more; migration 0003 takes them from groups made before.
WITHDRAWN_APP_LABELS = ("people",)

# What an operator may change: the objects whose back-office actions they run
# (transition buttons, cancel with a reason, resend, redeliver).
OPERATOR_CHANGES = (
    ("identities", "externalpersonalidentity"),
    ("verifications", "verificationprocess"),
    ("activities", "activity"),
    ("identifications", "otpidentification"),
    ("webhooks", "delivery"),
)


def role_permissions(role: str, permissions: Any) -> Any:
    """The permissions of one role, from `permissions` (a queryset or manager of auth.Permission)."""
    project = permissions.filter(content_type__app_label__in=APP_LABELS)
    for app_label, codename in SUPERUSER_ONLY:
        project = project.exclude(content_type__app_label=app_label, codename=codename)
    export = permissions.filter(content_type__app_label=EXPORT_PERMISSION[0], codename=EXPORT_PERMISSION[1])
    views = project.filter(codename__startswith="view_")
    if role == VIEWER:
        return views
    if role == OPERATOR:
        change_codenames = [f"change_{model}" for _, model in OPERATOR_CHANGES]
        changes = project.filter(
            content_type__app_label__in=[app for app, _ in OPERATOR_CHANGES], codename__in=change_codenames
        )
        return views | changes | export
    if role == ADMINISTRATOR:
        return project | export
    raise ValueError(f"Unknown staff role {role!r}.")


def role_withdrawn_permissions(permissions: Any) -> Any:
    """The permissions no role holds any more (accounts, details, organizations, memberships)."""
    withdrawn = permissions.filter(content_type__app_label__in=WITHDRAWN_APP_LABELS)
    for app_label, codename in SUPERUSER_ONLY:
        withdrawn = withdrawn | permissions.filter(content_type__app_label=app_label, codename=codename)
    return withdrawn


def role_groups_sync(group_model: Any, permission_model: Any, *, using: str = "default", reset: bool) -> None:
    """Create the role groups; `reset` also gives existing ones their default permissions again."""
    for role in ROLES:
        group, created = group_model.objects.using(using).get_or_create(name=role)
        if created or reset:
            group.permissions.set(role_permissions(role, permission_model.objects.using(using)))

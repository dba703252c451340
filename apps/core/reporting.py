"""Error reports (the ADMINS email, Django's error page) without personal data.

Django's default filter hides only settings and parameters whose names look secret. Here a
form field may be any personal detail, a frame's local variables may hold decrypted values,
and a signed-in user's str() is their email address. So with DEBUG off a report shows none
of them, nor cookie values (a session cookie is a sign-in): only the traceback's code, the
request's path and method (link tokens redacted), the user's id, and the exception. DEBUG on (a developer's
machine) keeps the full report.
"""

from __future__ import annotations

from types import FrameType
from typing import Any

from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from apps.core.redaction import REDACTED, SECRET_PARAMETERS, redact_secrets


class PersonalDataReporterFilter(SafeExceptionReporterFilter):
    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        if request is None:
            return {}
        if not self.is_active(request):
            return super().get_post_parameters(request)
        cleansed = request.POST.copy() if isinstance(request.POST, QueryDict) else QueryDict(mutable=True)
        for key in cleansed:
            cleansed[key] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: FrameType) -> Any:
        if not self.is_active(request):
            return super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]

    def get_safe_cookies(self, request: HttpRequest) -> Any:
        if not self.is_active(request):
            return super().get_safe_cookies(request)
        return {name: self.cleansed_substitute for name in getattr(request, "COOKIES", {})}


class PersonalDataExceptionReporter(ExceptionReporter):
    """Names the signed-in user by id, not by str() (the email address), and shows no secret
    link token: the report repeats the URL (request URL, PATH_INFO, QUERY_STRING, Referer)."""

    # The rendered report with secrets replaced by a plain marker stays as safe as Django made it.
    def get_traceback_text(self) -> SafeString:
        return mark_safe(redact_secrets(super().get_traceback_text()))

    def get_traceback_html(self) -> SafeString:
        return mark_safe(redact_secrets(super().get_traceback_html()))

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if "request_GET_items" in data:  # a table of names and values: redacted by name
            data["request_GET_items"] = [
                (name, REDACTED if name.lower() in SECRET_PARAMETERS else value)
                for name, value in data["request_GET_items"]
            ]
        user = getattr(self.request, "user", None)
        if not settings.DEBUG and data.get("user_str") and user is not None:
            data["user_str"] = f"user {user.pk}" if getattr(user, "is_authenticated", False) else "anonymous"
        return data

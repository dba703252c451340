from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from apps.identifications.services import MAX_IMAGE_BYTES

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

_IMAGE_HELP = format_lazy(_("JPEG, PNG or PDF, at most {} MB."), MAX_IMAGE_BYTES // (1024 * 1024))


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("One-time code"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}"}),
        help_text=_("The six digits we sent you."),
    )


class SecondFactorForm(forms.Form):
    second_factor = forms.CharField(max_length=254)

    def __init__(self, *args: Any, label: str | StrPromise, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["second_factor"].label = label


class DocumentImagesForm(forms.Form):
    front_image = forms.FileField(
        label=_("Front of your document"),
        help_text=_IMAGE_HELP,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )
    back_image = forms.FileField(
        label=_("Back of your document"),
        help_text=_IMAGE_HELP,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )

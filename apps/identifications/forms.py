from __future__ import annotations

from django import forms

from apps.identifications.services import MAX_IMAGE_BYTES


class CodeForm(forms.Form):
    code = forms.CharField(
        label="One-time code",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}"}),
        help_text="The six digits we sent you.",
    )


class SecondFactorForm(forms.Form):
    second_factor = forms.CharField(max_length=254)

    def __init__(self, *args: object, label: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["second_factor"].label = label


class DocumentImagesForm(forms.Form):
    front_image = forms.FileField(
        label="Front of your document",
        help_text=f"JPEG, PNG or PDF, at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )
    back_image = forms.FileField(
        label="Back of your document",
        help_text=f"JPEG, PNG or PDF, at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )

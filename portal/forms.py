from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import QUESTION_MAX_LENGTH


class SignInRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class QuestionForm(forms.Form):
    message = forms.CharField(
        label=_("Your question"),
        max_length=QUESTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("It goes to the member who did the work; they answer you by e-mail."),
    )


class PasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("The same password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class PasswordSignInForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

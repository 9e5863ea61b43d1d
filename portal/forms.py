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

"""Browser forms: they check the shape of input; services check the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from coop import bounds
from members.models import Activity, Language, Member
from members.validators import clean_iban, clean_niss

COUNTRY_CHOICES = [
    ("BE", _("Belgium")),
    ("FR", _("France")),
    ("NL", _("Netherlands")),
    ("LU", _("Luxembourg")),
    ("DE", _("Germany")),
]


class IdentityCleaningMixin:
    """Validate IBAN and national number fields with python-stdnum."""

    def clean_iban(self) -> str:
        return clean_iban(self.cleaned_data["iban"])

    def clean_niss(self) -> str:
        value = self.cleaned_data.get("niss", "")
        return clean_niss(value) if value else ""


class MembershipApplicationForm(IdentityCleaningMixin, forms.Form):
    legal_name = forms.CharField(label=_("Legal name"), max_length=200)
    street = forms.CharField(label=_("Street and number"), max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), max_length=16)
    city = forms.CharField(label=_("City"), max_length=100)
    country = forms.ChoiceField(label=_("Country"), choices=COUNTRY_CHOICES, initial="BE")
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    preferred_language = forms.ChoiceField(label=_("Preferred language"), choices=Language.choices)
    iban = forms.CharField(
        label=_("IBAN"), max_length=42, help_text=_("The account your salary is paid to.")
    )
    niss = forms.CharField(
        label=_("National register number"),
        max_length=20,
        help_text=_("Needed to declare your employment. Stored encrypted."),
    )
    number_of_shares = forms.IntegerField(
        label=_("Number of shares"), min_value=1, max_value=1000, initial=1
    )
    accept_statutes = forms.BooleanField(
        label=_("I have read the cooperative's statutes and accept them.")
    )


class ProfileForm(IdentityCleaningMixin, forms.ModelForm):
    country = forms.ChoiceField(label=_("Country"), choices=COUNTRY_CHOICES)
    iban = forms.CharField(label=_("IBAN"), max_length=42)

    class Meta:
        model = Member
        fields = ["street", "postal_code", "city", "country", "phone", "preferred_language", "iban"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.iban:
            self.initial["iban"] = self.instance.iban_display


class ActivityForm(forms.ModelForm):
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=bounds.DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    class Meta:
        model = Activity
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What uses this token, e.g. “accounting export”."),
    )
    lifetime_days = forms.TypedChoiceField(label=_("Valid for"), coerce=int)
    totp_code = forms.CharField(
        label=_("Authenticator code"),
        max_length=16,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, max_days: int, needs_code: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        lifetimes = sorted({days for days in (7, 30, 90) if days <= max_days} | {max_days})
        self.fields["lifetime_days"].choices = [
            (days, ngettext("%(days)s day", "%(days)s days", days) % {"days": days})
            for days in lifetimes
        ]
        self.fields["lifetime_days"].initial = max_days
        if needs_code:
            self.fields["totp_code"].required = True
            self.fields["totp_code"].help_text = _(
                "The six-digit code your authenticator app shows now."
            )
        else:
            del self.fields["totp_code"]

"""Browser forms of spaces: they check the shape of input; services check the rules."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coop import bounds
from invoicing.models import Client
from invoicing.selectors import cooperative_clients
from members.models import Activity, Member, User
from members.selectors import activities_visible_to
from spaces.models import MONEY, BookingSeries, Room, Site
from spaces.selectors import is_space_manager, sites_visible_to

NO_REPEAT = ""
BOOKING_DATE = bounds.date_validator(bounds.check_booking_date)
ANY_DATE = bounds.date_validator(bounds.check_any_date)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time", "step": 900}, format="%H:%M")


class BookingForm(forms.Form):
    """Book a room: a slot on the site's wall clock, who pays, and an optional repetition."""

    title = forms.CharField(label=_("Title"), max_length=200)
    date = forms.DateField(label=_("Date"), widget=_date_input(), validators=[BOOKING_DATE])
    start_time = forms.TimeField(label=_("From"), widget=_time_input())
    end_time = forms.TimeField(label=_("To"), widget=_time_input())
    activity = forms.ModelChoiceField(
        label=_("Paying Activity"), queryset=Activity.objects.none(), required=False
    )
    organisation = forms.ModelChoiceField(
        label=_("Or an outside organisation"),
        queryset=Client.objects.none(),
        required=False,
        help_text=_("Outside renters are invoiced, with VAT on top."),
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=150, required=False)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=32, required=False)
    repeat = forms.ChoiceField(
        label=_("Repeat"),
        required=False,
        choices=[(NO_REPEAT, _("Does not repeat")), *BookingSeries.Frequency.choices],
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=_date_input(), validators=[BOOKING_DATE]
    )
    count = forms.IntegerField(
        label=_("Or number of occurrences"), required=False, min_value=1, max_value=104
    )
    book_free_only = forms.BooleanField(
        label=_("If some dates are taken, book the free ones"), required=False
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_manager = is_space_manager(user)
        if self.is_manager:
            self.fields["activity"].queryset = Activity.objects.select_related("owner").filter(
                owner__status="active"
            )
            self.fields["organisation"].queryset = cooperative_clients()
        else:
            self.fields["activity"].queryset = activities_visible_to(user)
            self.fields["activity"].required = True
            for name in ("organisation", "contact_name", "contact_email", "contact_phone"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        if self.is_manager and bool(data.get("activity")) == bool(data.get("organisation")):
            raise forms.ValidationError(
                _("Choose either a paying Activity or an outside organisation.")
            )
        return data


class SearchForm(forms.Form):
    """Find free rooms for a slot in one of the sites the user sees (the first one by default)."""

    site = forms.ModelChoiceField(
        label=_("Site"),
        queryset=Site.objects.none(),
        required=False,
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of the sites in the list.")},
    )
    date = forms.DateField(label=_("Date"), widget=_date_input(), validators=[BOOKING_DATE])
    start_time = forms.TimeField(label=_("From"), widget=_time_input())
    duration_minutes = forms.TypedChoiceField(
        label=_("Duration"),
        coerce=int,
        choices=[
            (30, _("30 minutes")),
            (60, _("1 hour")),
            (90, _("1 h 30")),
            (120, _("2 hours")),
            (180, _("3 hours")),
            (240, _("Half a day (4 h)")),
            (480, _("A day (8 h)")),
        ],
        initial=60,
    )
    capacity = forms.IntegerField(label=_("People"), required=False, min_value=1)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any")), *Room.Kind.choices]
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        sites = sites_visible_to(user).order_by("name")
        self.fields["site"].queryset = sites
        self.default_site = sites.first()
        self.fields["site"].initial = self.default_site

    def clean_site(self) -> Site | None:
        # Links and bookmarks from before the selector carry no site: search the default one.
        return self.cleaned_data.get("site") or self.default_site


class MoveForm(forms.Form):
    """Move a booking: another slot, or another room of the same site."""

    room = forms.ModelChoiceField(
        label=_("Room"),
        queryset=Room.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of the rooms in the list.")},
    )
    date = forms.DateField(label=_("Date"), widget=_date_input(), validators=[BOOKING_DATE])
    start_time = forms.TimeField(label=_("From"), widget=_time_input())
    end_time = forms.TimeField(label=_("To"), widget=_time_input())
    title = forms.CharField(label=_("Title"), max_length=200)

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = site.rooms.filter(is_bookable=True).order_by("name")


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), max_length=255, required=False)
    rest_of_series = forms.BooleanField(
        label=_("Also cancel the later occurrences of the series"), required=False
    )
    waive_fee = forms.BooleanField(label=_("Waive the cancellation fee"), required=False)


class RefuseForm(forms.Form):
    reason = forms.CharField(label=_("Why is the request refused?"), max_length=255)


class ActivityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Activity) -> str:
        return f"{obj.name} ({obj.owner})"


class LeaseForm(forms.Form):
    """Lease a room of a site to a member, paid by one of the member's Activities."""

    room = forms.ModelChoiceField(label=_("Room"), queryset=Room.objects.none())
    member = forms.ModelChoiceField(label=_("Member"), queryset=Member.objects.none())
    activity = ActivityChoiceField(label=_("Paying Activity"), queryset=Activity.objects.none())
    starts_on = forms.DateField(label=_("From"), widget=_date_input(), validators=[ANY_DATE])
    ends_on = forms.DateField(
        label=_("Until"), required=False, widget=_date_input(), validators=[ANY_DATE]
    )
    monthly_rent = forms.DecimalField(label=_("Monthly rent"), required=False, **MONEY)

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = site.rooms.filter(
            Q(kind__in=[Room.Kind.ATELIER, Room.Kind.OFFICE]) | Q(is_bookable=False)
        ).order_by("floor", "name")
        self.fields["member"].queryset = Member.objects.filter(
            status=Member.Status.ACTIVE
        ).order_by("legal_name")
        self.fields["activity"].queryset = (
            Activity.objects.select_related("owner")
            .filter(owner__status=Member.Status.ACTIVE)
            .order_by("owner__legal_name", "name")
        )

    def clean(self):
        data = super().clean()
        member, activity = data.get("member"), data.get("activity")
        if member and activity and activity.owner_id != member.pk:
            self.add_error(
                "activity",
                _("%(name)s is not a member of this Activity.") % {"name": member.legal_name},
            )
        return data

"""Browser forms of spaces: they check the shape of input; services check the rules."""

from django import forms
from django.db.models import Model, Q, QuerySet
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from coop import bounds
from invoicing.forms import ClientForm
from invoicing.models import Client
from members.models import Activity, Member, User
from spaces.models import MONEY, BookingSeries, Room, Site
from spaces.selectors import (
    Lookup,
    activities_matching,
    activity_choices,
    is_space_manager,
    members_matching,
    organisations_matching,
    sites_visible_to,
)

NO_REPEAT = ""
BOOKING_DATE = bounds.date_validator(bounds.check_booking_date)
ANY_DATE = bounds.date_validator(bounds.check_any_date)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time", "step": 900}, format="%H:%M")


def member_text(member: Member) -> str:
    """The text that names a member in a look-up field: the e-mail address identifies them."""
    return f"{member.legal_name} <{member.user.email}>"


def activity_label(activity: Activity) -> str:
    return f"{activity.name} ({activity.owner.legal_name})"


def activity_text(activity: Activity) -> str:
    """The text that names an Activity in a look-up field: its number identifies it."""
    return f"{activity_label(activity)} #{activity.pk}"


def organisation_text(client: Client) -> str:
    return f"{client.name} #{client.pk}"


class LookupInput(forms.TextInput):
    """A text field that static/js/lookup.js turns into a search as the manager types.

    Without JavaScript it stays a text field, which the form resolves (``LookupField``).
    """

    def __init__(self, url, attrs=None):
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})
        self.url = url

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["data-lookup-url"] = str(self.url)
        return context


class LookupField(forms.Field):
    """A row named by what the manager types: its number, an e-mail address or a part of its
    name. Exactly one row must match; otherwise the error says what matched.

    ``matching`` finds the rows (through indexes, see spaces.selectors); ``text_of`` is the
    text that names one row, which the suggestions of lookup.js put in the field and which
    the error about several matches lists, so that they can be typed without JavaScript.
    """

    SHOWN = 5

    default_error_messages = {
        "too_short": _("Type at least three letters of the name, or an e-mail address."),
        "ambiguous": _("Several match “%(text)s”: %(matches)s. Type one of them as shown."),
        "mismatch": _(
            "“%(text)s” does not name number %(number)s: choose a suggestion, or type a name,"
            " an e-mail address or a number alone."
        ),
    }

    def __init__(
        self,
        *,
        url,
        matching,
        text_of,
        name_of,
        not_found,
        **kwargs,
    ):
        kwargs.setdefault("widget", LookupInput(url))
        super().__init__(**kwargs)
        self.matching = matching
        self.text_of = text_of
        self.name_of = name_of
        self.error_messages["not_found"] = not_found

    def prepare_value(self, value):
        return self.text_of(value) if isinstance(value, Model) else value

    def to_python(self, value):
        if isinstance(value, Model):
            return value
        text = " ".join(str(value or "").split())[:200]
        if not text:
            return None
        lookup = Lookup.parse(text)
        if lookup.is_too_short:
            raise forms.ValidationError(self.error_messages["too_short"], code="too_short")
        matches: QuerySet = self.matching(lookup)
        found = list(matches[: self.SHOWN + 1])
        if lookup.label and (len(found) != 1 or self.text_of(found[0]) != text):
            # "Illustration (Ana Peeters) #4" must be Activity 4 as shown, never whatever
            # else has that number.
            raise forms.ValidationError(
                self.error_messages["mismatch"],
                code="mismatch",
                params={"text": text, "number": lookup.pk},
            )
        if len(found) == 1:
            return found[0]
        if not found:
            raise forms.ValidationError(
                self.error_messages["not_found"], code="not_found", params={"text": text}
            )
        # "Ana Peeters" names her even when "Ana Peeters-Dubois" matches too.
        exact = [row for row in found if self.name_of(row).casefold() == lookup.name.casefold()]
        if len(exact) == 1:
            return exact[0]
        shown = "; ".join(self.text_of(row) for row in found[: self.SHOWN])
        raise forms.ValidationError(
            self.error_messages["ambiguous"],
            code="ambiguous",
            params={"text": text, "matches": shown + ("; …" if len(found) > self.SHOWN else "")},
        )


def member_lookup_field(**kwargs) -> LookupField:
    return LookupField(
        url=reverse_lazy("spaces:lookup_members"),
        matching=members_matching,
        text_of=member_text,
        name_of=lambda member: member.legal_name,
        not_found=_("No active member matches “%(text)s”."),
        **kwargs,
    )


def activity_lookup_field(**kwargs) -> LookupField:
    return LookupField(
        url=reverse_lazy("spaces:lookup_activities"),
        matching=activities_matching,
        text_of=activity_text,
        name_of=lambda activity: activity.name,
        not_found=_("No Activity of an active member matches “%(text)s”."),
        **kwargs,
    )


def organisation_lookup_field(**kwargs) -> LookupField:
    return LookupField(
        url=reverse_lazy("spaces:lookup_organisations"),
        matching=organisations_matching,
        text_of=organisation_text,
        name_of=lambda client: client.name,
        not_found=_("No outside organisation matches “%(text)s”."),
        **kwargs,
    )


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

    def __init__(self, *args, user: User, new_renter: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_manager = is_space_manager(user)
        # A manager may pay with a renter added with the booking (``OutsideRenterForm``).
        self.new_renter = new_renter and self.is_manager
        if self.is_manager:
            # Any Activity of the cooperative, or any of its outside renters: far too many
            # for a list, so each is a look-up field.
            self.fields["activity"] = activity_lookup_field(
                label=self.fields["activity"].label,
                required=False,
                help_text=_("A part of its name or of its owner's name, or the owner's e-mail."),
            )
            self.fields["organisation"] = organisation_lookup_field(
                label=self.fields["organisation"].label,
                required=False,
                help_text=self.fields["organisation"].help_text,
            )
        else:
            activities = Activity.objects.of_user(user).order_by("name", "pk")
            field = self.fields["activity"]
            field.queryset = activities
            # The list from one written statement: a model choice field would read it through a
            # server-side cursor and build an Activity per option.
            field.widget.choices = [("", field.empty_label), *activity_choices(user)]
            field.required = True
            for name in ("organisation", "contact_name", "contact_email", "contact_phone"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        # A payer that could not be read already says why: no second error about it.
        unread = self.has_error("activity") or self.has_error("organisation")
        payers = [bool(data.get("activity")), bool(data.get("organisation")), self.new_renter]
        if self.is_manager and not unread and sum(payers) != 1:
            raise forms.ValidationError(
                _(
                    "Choose one payer: a paying Activity, an outside organisation or a new"
                    " outside renter."
                )
            )
        return data


class OutsideRenterForm(ClientForm):
    """A new outside renter for a manager's booking: a person or an organisation with the
    details its invoices need, the fields of the clients' form (prefix "renter").

    Only a ticked ``create`` box makes it count: otherwise the form is unbound, showing what
    was typed without checking it (``of``).
    """

    PREFIX = "renter"
    # Its fields are required only when the box is ticked: the browser must not demand them.
    use_required_attribute = False

    create = forms.BooleanField(label=_("Book for a new outside renter"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix=self.PREFIX, **kwargs)
        self.order_fields(["create"])
        self.fields["kind"].label = _("Person or organisation")
        self.fields["create"].help_text = _(
            "Leave the payer fields above empty and describe the renter here: it is added to"
            " the outside organisations and invoiced for the booking."
        )

    @classmethod
    def of(cls, data) -> "OutsideRenterForm":
        """The form for a request's data: bound when its box is ticked, else unbound with
        what was typed as initial values."""
        form = cls()
        if data is None:
            return form
        if form["create"].field.widget.value_from_datadict(data, {}, form.add_prefix("create")):
            return cls(data)
        form.initial = {
            name: data[form.add_prefix(name)]
            for name in form.fields
            if name != "create" and data.get(form.add_prefix(name))
        }
        return form

    @property
    def is_chosen(self) -> bool:
        return self.is_bound

    def client_details(self) -> dict:
        """The cleaned details, as ``add_outside_renter`` takes them."""
        return {name: value for name, value in self.cleaned_data.items() if name != "create"}


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
    """Lease a room of a site to a member, paid by one of the member's Activities.

    The member is a look-up field (100,000 members make no list); the Activity list holds the
    Activities of the member found, filled in by lookup.js as soon as one is chosen, or by the
    server once the form is sent without JavaScript.
    """

    room = forms.ModelChoiceField(label=_("Room"), queryset=Room.objects.none())
    member = member_lookup_field(
        label=_("Member"),
        help_text=_("A part of the name, or the e-mail address."),
    )
    activity = ActivityChoiceField(
        label=_("Paying Activity"),
        queryset=Activity.objects.none(),
        help_text=_("The Activities of the member found above."),
    )
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
        self.fields["member"].widget.attrs["data-lookup-fills"] = self["activity"].auto_id
        # Any Activity of an active member is accepted (one query by its number), so that the
        # error about another member's Activity can be precise; only the member's are listed.
        self.fields["activity"].queryset = Activity.objects.select_related("owner").filter(
            owner__status=Member.Status.ACTIVE
        )
        self._list_activities_of(None)

    def _list_activities_of(self, member: Member | None) -> None:
        field = self.fields["activity"]
        owned = (
            Activity.objects.filter(owner=member).select_related("owner").order_by("name", "pk")
            if member is not None
            else []
        )
        field.widget.choices = [
            ("", field.empty_label),
            *((activity.pk, field.label_from_instance(activity)) for activity in owned),
        ]

    def clean_member(self) -> Member | None:
        member = self.cleaned_data.get("member")
        self._list_activities_of(member)
        return member

    def clean(self):
        data = super().clean()
        member, activity = data.get("member"), data.get("activity")
        if member and activity and activity.owner_id != member.pk:
            self.add_error(
                "activity",
                _("%(name)s is not a member of this Activity.") % {"name": member.legal_name},
            )
        return data

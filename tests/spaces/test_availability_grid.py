"""A room's week as an availability grid: closed days and hours, labelled busy slots, free slots
that book without JavaScript, the price of a chosen range, and the search's prices and end time."""

import datetime
import html
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.urls import reverse

from spaces.availability import State, week_grid
from spaces.models import Booking, ClosedDay, OpeningHours
from spaces.selectors import BusyTime
from tests.spaces.conftest import at, make_room
from tests.test_csp import scripts_of

FUTURE = datetime.date(2030, 3, 12)  # a Tuesday
MONDAY = datetime.date(2030, 3, 11)
SUNDAY = datetime.date(2030, 3, 17)
CELL = re.compile(
    r'<td data-slot="(?P<date>[^"T]+)T(?P<time>[^"]+)" data-start="(?P<start>[^"]+)"'
    r' data-end="(?P<end>[^"]*)" data-state="(?P<state>[^"]+)">(?P<content>.*?)</td>'
)
WORDS = {
    "fr": {"closed": "fermé", "booked": "Réservé", "price": "Prix du mardi 12 mars, 14:00–15:30 :"},
    "nl": {
        "closed": "gesloten",
        "booked": "Gereserveerd",
        "price": "Prijs van dinsdag 12 maart, 14:00–15:30:",
    },
    "en": {
        "closed": "closed",
        "booked": "Booked",
        "price": "Price of Tuesday 12 March, 14:00–15:30:",
    },
}
AMOUNTS = {"fr": "18,00\xa0€", "nl": "18,00\xa0€", "en": "18.00\xa0€"}


def cells_of(page: str) -> dict[str, dict]:
    return {f"{found['date']}T{found['time']}": found.groupdict() for found in CELL.finditer(page)}


def booking(room, start, end, *, member, activity, title, state="confirmed") -> Booking:
    return Booking.objects.create(
        room=room,
        during=DateTimeTZRange(start, end),
        blocked_during=DateTimeTZRange(start, end),
        title=title,
        state=state,
        member=member,
        activity=activity,
        created_by=member.user,
        tier="member",
        price_excl_vat=Decimal("10.00"),
        vat_rate=Decimal("0.00"),
        vat_amount=Decimal("0.00"),
        price_incl_vat=Decimal("10.00"),
    )


def week_page(client, user, room, language="en", **query) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    response = client.get(
        reverse("spaces:room_detail", args=[room.pk]), {"date": FUTURE.isoformat(), **query}
    )
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_a_closed_weekday_and_a_closed_date_show_closed_not_free(
    client, member, long_horizon_room, language
):
    ClosedDay.objects.create(site=long_horizon_room.site, date=FUTURE, reason="Works")
    page = week_page(client, member.user, long_horizon_room, language)
    cells = cells_of(page)
    sunday = [cell for cell in cells.values() if cell["date"] == SUNDAY.isoformat()]
    tuesday = [cell for cell in cells.values() if cell["date"] == FUTURE.isoformat()]
    monday = [cell for cell in cells.values() if cell["date"] == MONDAY.isoformat()]
    assert len(sunday) == len(tuesday) == len(monday) == 28  # 08:00 to 22:00 in half hours
    assert {cell["state"] for cell in sunday} == {"closed"}
    assert {cell["state"] for cell in tuesday} == {"closed"}
    assert {cell["state"] for cell in monday} == {"free"}
    assert "<a " not in "".join(cell["content"] for cell in sunday + tuesday)
    closed = WORDS[language]["closed"]
    header = re.search(rf'<th scope="col" data-date="{SUNDAY}">(.*?)</th>', page).group(1)
    assert f'<span class="grid-closed">{closed}</span>' in header
    header = re.search(rf'<th scope="col" data-date="{FUTURE}">(.*?)</th>', page).group(1)
    assert f'<span class="grid-closed">{closed}</span> <span class="muted">(Works)</span>' in header
    # The closed day's first cell says so in words, not only in colour.
    assert closed.capitalize() in cells[f"{SUNDAY}T08:00"]["content"]


def test_hours_outside_a_shorter_day_are_closed(client, member, long_horizon_room):
    OpeningHours.objects.filter(site=long_horizon_room.site, weekday=5).update(
        opens_at=datetime.time(9, 0), closes_at=datetime.time(18, 0)
    )
    cells = cells_of(week_page(client, member.user, long_horizon_room))
    saturday = "2030-03-16"
    assert cells[f"{saturday}T08:30"]["state"] == "closed"
    assert cells[f"{saturday}T09:00"]["state"] == "free"
    assert cells[f"{saturday}T17:30"]["state"] == "free"
    assert cells[f"{saturday}T18:00"]["state"] == "closed"
    assert cells[f"{MONDAY}T18:00"]["state"] == "free"


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_busy_slots_are_labelled_and_another_members_stay_anonymous(
    client, member, activity, other_member, other_activity, long_horizon_room, language
):
    room = long_horizon_room
    booking(
        room,
        at(FUTURE, 10),
        at(FUTURE, 12),
        member=other_member,
        activity=other_activity,
        title="Secret rehearsal",
    )
    booking(
        room,
        at(FUTURE, 13),
        at(FUTURE, 14),
        member=other_member,
        activity=other_activity,
        title="Secret request",
        state="tentative",
    )
    booking(
        room, at(FUTURE, 16), at(FUTURE, 17), member=member, activity=activity, title="My review"
    )
    page = week_page(client, member.user, room, language)
    cells = cells_of(page)
    assert [
        cells[f"{FUTURE}T{time}"]["state"] for time in ("09:30", "10:00", "11:30", "12:00")
    ] == [
        "free",
        "busy",
        "busy",
        "free",
    ]
    booked = WORDS[language]["booked"]
    assert (
        f'<span class="grid-label" aria-hidden="true">{booked} 10:00–12:00</span>'
        in (cells[f"{FUTURE}T10:00"]["content"])
    )
    assert "grid-label" not in cells[f"{FUTURE}T10:30"]["content"]  # the label once per booking
    assert cells[f"{FUTURE}T13:00"]["state"] == "requested"
    assert cells[f"{FUTURE}T16:00"]["state"] == "mine"
    assert "My review 16:00–17:00</span>" in cells[f"{FUTURE}T16:00"]["content"]
    assert "Secret" not in page
    assert "Lucas" not in page


def test_a_manager_reads_every_title(client, member, activity, space_manager, long_horizon_room):
    booking(
        long_horizon_room,
        at(FUTURE, 10),
        at(FUTURE, 12),
        member=member,
        activity=activity,
        title="Portfolio review",
    )
    cells = cells_of(week_page(client, space_manager, long_horizon_room))
    assert cells[f"{FUTURE}T10:00"]["state"] == "busy"
    assert "Portfolio review 10:00–12:00" in cells[f"{FUTURE}T10:00"]["content"]


def test_the_free_slot_link_books_that_slot_without_javascript(
    client, member, activity, long_horizon_room
):
    page = week_page(client, member.user, long_horizon_room)
    link = re.search(r'<a href="([^"]+)"', cells_of(page)[f"{FUTURE}T14:00"]["content"]).group(1)
    link = html.unescape(link)
    assert link == f"?date={FUTURE}&start=14:00&end=15:00#book"  # the room's minimum: an hour
    url = reverse("spaces:room_detail", args=[long_horizon_room.pk])
    form_page = client.get(url + link.split("#")[0]).content.decode()
    values = dict(
        re.findall(r'<input type="(?:date|time)" name="(\w+)" value="([^"]*)"', form_page)
    )
    assert values == {"date": FUTURE.isoformat(), "start_time": "14:00", "end_time": "15:00"}
    response = client.post(url, {**values, "title": "From the grid", "activity": activity.pk})
    assert response.status_code == 302
    made = Booking.objects.get()
    assert (made.start, made.end) == (at(FUTURE, 14), at(FUTURE, 15))
    assert made.title == "From the grid"
    page = week_page(client, member.user, long_horizon_room)
    assert cells_of(page)[f"{FUTURE}T14:30"]["state"] == "mine"


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_price_of_the_chosen_range_is_shown_and_the_end_prefilled(
    client, member, long_horizon_room, language
):
    page = week_page(client, member.user, long_horizon_room, language, start="14:00", end="15:30")
    price = re.search(r'<p class="price-preview" id="booking-price"[^>]*>(.*?)</p>', page).group(1)
    member_word = {"fr": "Membre", "nl": "Lid", "en": "Member"}[language]
    assert price == f"{WORDS[language]['price']} <strong>{member_word}</strong> {AMOUNTS[language]}"
    assert 'name="start_time" value="14:00"' in page
    assert 'name="end_time" value="15:30"' in page
    rows = json.loads(re.search(r'id="room-prices" type="application/json">(.*?)<', page).group(1))
    assert rows == [
        {
            "label": member_word,
            "hour": "12.00",
            "half_day": "40.00",
            "day": "70.00",
            "vat_rate": "0.00",
            "half_day_minutes": 240,
        }
    ]


def test_a_manager_sees_member_and_outside_prices(client, space_manager, long_horizon_room):
    page = week_page(client, space_manager, long_horizon_room, start="10:00", end="13:00")
    price = re.search(r'id="booking-price"[^>]*>(.*?)</p>', page).group(1)
    # 3 h: 36.00 by the hour for members; 75.00 by the hour beats 90.00 the half day outside.
    assert "<strong>Member</strong> 36.00\xa0€; <strong>External</strong>" in price
    assert "75.00\xa0€ excl. VAT (90.75\xa0€ incl. VAT)" in price


@pytest.mark.parametrize("query", [{"start": "15:00", "end": "14:00"}, {"start": "x", "end": "y"}])
def test_a_range_that_is_none_shows_no_price(client, member, long_horizon_room, query):
    page = week_page(client, member.user, long_horizon_room, **query)
    assert 'id="booking-price" aria-live="polite"' in page
    assert "Choose a slot to see its price.</p>" in page


def test_the_grid_is_keyboard_ready_and_runs_only_its_script(client, member, long_horizon_room):
    page = week_page(client, member.user, long_horizon_room)
    assert (
        '<table class="availability-grid" role="grid" aria-describedby="grid-help"'
        ' data-step="30" data-min-minutes="60" data-max-minutes="720">' in page
    )
    assert '<p id="grid-help" class="hint">' in page
    assert "arrow keys" in page
    assert (
        '<caption class="visually-hidden">Availability of Salle Bleue, week of 11 March 2030'
        in page
    )
    cells = cells_of(page)
    assert len(cells) == 7 * 28
    assert cells[f"{FUTURE}T14:00"] | {"content": ""} == {
        "date": FUTURE.isoformat(),
        "time": "14:00",
        "start": "14:00",
        "end": "14:30",
        "state": "free",
        "content": "",
    }
    # Each cell tells a screen reader its state; the headers its day and time.
    assert cells[f"{FUTURE}T14:00"]["content"] == (
        f'<a href="?date={FUTURE}&amp;start=14:00&amp;end=15:00#book">'
        '<span class="visually-hidden">free</span></a>'
    )
    assert '<abbr title="Tuesday 12 March">Tue 12/3</abbr>' in page
    assert '<tr><th scope="row">14:00</th>' in page
    finder = scripts_of(page)
    assert finder.inline == []
    assert "/static/js/room-grid.js" in finder.sources


def test_the_search_shows_prices_and_links_with_the_end(client, member, site):
    make_room(site, name="Salle Verte", horizon_days=10000)
    client.force_login(member.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    response = client.get(
        reverse("spaces:search"),
        {"date": FUTURE.isoformat(), "start_time": "10:00", "duration_minutes": 90},
    )
    page = response.content.decode()
    row = re.search(r"<tr><th scope=\"row\"><a href=\"([^\"]+)\">Salle Verte</a>(.*?)</tr>", page)
    assert html.unescape(row.group(1)).endswith(f"?date={FUTURE}&start=10:00&end=11:30#book")
    assert '<td class="number">18,00\xa0€</td>' in row.group(2)
    assert "12,00\xa0€/h · 40,00\xa0€/demi-journée · 70,00\xa0€/jour" in row.group(2)


def _busy(start, end, *, state="confirmed", before=0, after=0, mine=False):
    return BusyTime(
        start,
        end,
        start - datetime.timedelta(minutes=before),
        end + datetime.timedelta(minutes=after),
        state,
        "",
        mine,
    )


def test_buffers_and_lead_time_take_slots_out(site):
    room = make_room(site, buffer_before_minutes=15, buffer_after_minutes=15, slot_minutes=30)
    grid = week_grid(
        room=room,
        monday=MONDAY,
        hours=list(site.opening_hours.all()),
        closed_days=[],
        busy=[_busy(at(FUTURE, 10), at(FUTURE, 11), before=15, after=15)],
        earliest=at(MONDAY, 12),
    )
    monday, tuesday = grid.columns[0], grid.columns[1]
    states = {
        f"{time:%H:%M}": cell.state for time, cell in zip(grid.times, tuesday.cells, strict=True)
    }
    # 09:30–10:00 would need 10:00–10:15 free after it, where the booking's buffer lies.
    assert [states[time] for time in ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30")] == [
        State.FREE,
        State.BUFFER,
        State.BUSY,
        State.BUSY,
        State.BUFFER,
        State.FREE,
    ]
    monday_states = dict(zip(grid.times, (cell.state for cell in monday.cells), strict=True))
    assert {state for time, state in monday_states.items() if time.hour < 12} == {State.PAST}
    assert {state for time, state in monday_states.items() if time.hour >= 12} == {State.FREE}
    assert grid.times[0] == datetime.time(8, 0)
    assert grid.times[-1] == datetime.time(21, 30)


def test_a_week_the_site_is_closed_says_so(client, member, long_horizon_room):
    OpeningHours.objects.filter(site=long_horizon_room.site).delete()
    page = week_page(client, member.user, long_horizon_room)
    assert "The site is closed all this week." in page
    assert "availability-grid" not in page


def test_time_fields_are_as_wide_as_the_other_fields():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "coop.css").read_text()
    rule = re.search(r"\n(input\[type=\"text\"\][^{]*)\{([^}]*)\}", css)
    assert 'input[type="time"]' in rule.group(1)
    assert "width: 100%" in rule.group(2)

"""The occupancy charts are SVG drawings: their coordinates are machine text in every language."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from tests.spaces.conftest import DAY, at
from tests.spaces.test_occupancy import add

SVG = "{http://www.w3.org/2000/svg}"
COORDINATES = {"x", "y", "x1", "y1", "x2", "y2", "width", "height"}
# What SVG reads as a number: digits with an optional dot-decimal part, never a comma.
SVG_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def charts_of(page: str) -> list[ET.Element]:
    """Every <svg> of the page, parsed as XML (a malformed drawing raises here)."""
    drawings = re.findall(r"<svg\b.*?</svg>", page, flags=re.DOTALL)
    namespaced = (drawing.replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1) for drawing in drawings)
    return [ET.fromstring(drawing) for drawing in namespaced]  # noqa: S314 (our own page)


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_occupancy_charts_draw_with_dot_decimal_coordinates_in_each_language(
    client, settings, space_manager, site, room, member, activity, language
):
    # 1 h 30 of a day open 14 hours: a bar whose height has a decimal part.
    add(room, at(DAY, 10), at(DAY, 11, 30), "confirmed", member=member, activity=activity)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(space_manager)

    page = client.get(reverse("spaces:occupancy", args=[site.pk]), {"date": DAY.isoformat()})

    assert page.status_code == 200
    charts = charts_of(page.content.decode())
    assert len(charts) == 2  # occupancy by week, revenue by tier
    for chart in charts:
        assert chart.get("viewBox") == "0 0 640 190"
        bars = chart.findall(f"{SVG}g/{SVG}rect")
        assert bars
        for element in chart.iter():
            for name, value in element.attrib.items():
                if name in COORDINATES:
                    assert SVG_NUMBER.fullmatch(value), (language, element.tag, name, value)
    trend, revenue = charts
    # Eight weeks, the last one at 1.5 / 84 hours = 2 %: a bar of 2 % of 150 px, 3.0 high.
    heights = [bar.get("height") for bar in trend.findall(f"{SVG}g/{SVG}rect")]
    assert len(heights) == 8
    assert heights[-1] == "3.0" and heights[0] == "0.0"
    # The member tier earned the only revenue: its bar is the full height, the others none.
    revenue_heights = [bar.get("height") for bar in revenue.findall(f"{SVG}g/{SVG}rect")]
    assert sorted(revenue_heights) == ["0.0"] * (len(revenue_heights) - 1) + ["150.0"]
    # The tallest bar's value is written inside the chart, not cut off at its top edge.
    values = [float(text.get("y")) for text in revenue.findall(f"{SVG}g/{SVG}text")]
    assert min(values) >= 12, values

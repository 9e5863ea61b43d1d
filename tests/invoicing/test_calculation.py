"""VAT per rate on the total, rounded half-up (DOMAIN.md §2)."""

from decimal import Decimal

import pytest

from invoicing.calculation import Line, compute_totals


def test_vat_is_rounded_on_the_total_per_rate_not_per_line():
    totals = compute_totals([Line(Decimal("3"), Decimal("19.99"), "S", Decimal("21"))])
    assert (totals.line_extension, totals.vat, totals.tax_inclusive) == (
        Decimal("59.97"),
        Decimal("12.59"),
        Decimal("72.56"),
    )
    per_line = compute_totals([Line(Decimal("1"), Decimal("19.99"), "S", Decimal("21"))] * 3)
    assert per_line.vat == Decimal("12.59")  # three lines of 4.1979 → one rounding, not three


def test_a_credit_note_vat_correction_is_added_to_its_group_once():
    hour = Line(Decimal("1"), Decimal("19.99"), "S", Decimal("21"))
    room = Line(Decimal("1"), Decimal("150.00"), "S", Decimal("6"))
    last_hour = Line(
        Decimal("1"), Decimal("19.99"), "S", Decimal("21"), vat_correction=Decimal("-0.01")
    )
    totals = compute_totals([last_hour, room])
    assert [(group.rate, group.taxable_amount, group.vat_amount) for group in
            totals.vat_breakdown] == [
        (Decimal("21"), Decimal("19.99"), Decimal("4.19")),
        (Decimal("6"), Decimal("150.00"), Decimal("9.00")),
    ]  # fmt: skip
    assert (totals.vat, totals.tax_inclusive) == (Decimal("13.19"), Decimal("183.18"))
    assert compute_totals([hour, room]).vat == Decimal("13.20")


def test_half_cent_rounds_up():
    # 0.50 × 21 % = 0.105 → 0.11 (half-up), where banker's rounding would give 0.10
    totals = compute_totals([Line(Decimal("1"), Decimal("0.50"), "S", Decimal("21"))])
    assert totals.vat == Decimal("0.11")


def test_mixed_rates_give_one_group_each_highest_rate_first():
    totals = compute_totals(
        [
            Line(Decimal("2"), Decimal("450.00"), "S", Decimal("21")),
            Line(Decimal("150"), Decimal("1.35"), "S", Decimal("6")),
            Line(Decimal("1"), Decimal("80.00"), "S", Decimal("12")),
            Line(Decimal("1"), Decimal("10.00"), "S", Decimal("21")),
        ]
    )
    assert [(g.rate, g.taxable_amount, g.vat_amount) for g in totals.vat_breakdown] == [
        (Decimal("21"), Decimal("910.00"), Decimal("191.10")),
        (Decimal("12"), Decimal("80.00"), Decimal("9.60")),
        (Decimal("6"), Decimal("202.50"), Decimal("12.15")),
    ]
    assert (totals.line_extension, totals.vat, totals.tax_inclusive) == (
        Decimal("1192.50"),
        Decimal("212.85"),
        Decimal("1405.35"),
    )


@pytest.mark.parametrize(("category", "code"), [("AE", "VATEX-EU-AE"), ("K", "VATEX-EU-IC")])
def test_reverse_charge_and_intra_eu_carry_their_exemption_code(category, code):
    totals = compute_totals([Line(Decimal("4"), Decimal("380.00"), category, Decimal("0"), "x")])
    (group,) = totals.vat_breakdown
    assert (group.vat_amount, group.exemption_code, totals.tax_inclusive) == (
        Decimal("0.00"),
        code,
        Decimal("1520.00"),
    )

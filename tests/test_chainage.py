"""Chainage (里程): reading and writing ``K123+456``, and calibration along a line.

Calibration maps chainage to measure (true distance along the geometry) and back,
piecewise-linearly between points of known chainage, across chain breaks (断链).
"""

from __future__ import annotations

import math
import string

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linerisk.calibration import Calibration, ChainageStatus, ChainBreakSpec
from linerisk.chainage import (
    Chainage,
    ChainageRange,
    format_chainage,
    parse_chainage,
    parse_chainage_range,
)

# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "metres", "prefix"),
    [
        ("K123+456", 123456.0, "K"),
        ("K123+456.78", 123456.78, "K"),
        ("DK123+456", 123456.0, "DK"),
        ("DK12+345.6", 12345.6, "DK"),
        ("K0+000", 0.0, "K"),
        ("K0+050", 50.0, "K"),
        ("K1577+655", 1577655.0, "K"),
        ("AK3+200", 3200.0, "AK"),
        ("CK5+100.5", 5100.5, "CK"),
        ("ABK1+000", 1000.0, "ABK"),
        ("k1+200", 1200.0, "K"),
        ("dk1+200", 1200.0, "DK"),
        ("  K1+200\t", 1200.0, "K"),
        ("\nK1+200 ", 1200.0, "K"),
        ("K1＋200", 1200.0, "K"),
        ("Ｋ１２＋３４５．６", 12345.6, "K"),
        ("ＤＫ１＋２００", 1200.0, "DK"),
        ("　K1+200　", 1200.0, "K"),
    ],
)
def test_parse_chainage(text, metres, prefix):
    value = parse_chainage(text)
    assert value == Chainage(metres, prefix)
    assert value.metres == pytest.approx(metres, abs=1e-9)
    assert value.prefix == prefix


@pytest.mark.parametrize(
    "text",
    [
        "K12+3456",  # four-digit metres
        "K12+45",  # two-digit metres
        "K-1+000",  # negative kilometres
        "12+345",  # no prefix where one is required
        "",
        "   ",
        "garbage",
        "K+200",
        "K1200",
        "K1+200.",
        "K1+200.5.5",
        "ABCD1+000",  # prefix longer than three letters
        "K1+200-K3+050",  # a range is not a single chainage
        "K1+2OO",  # letter O for zero
    ],
)
def test_malformed_chainage_names_the_string(text):
    with pytest.raises(ValueError, match="chainage") as err:
        parse_chainage(text)
    assert repr(text) in str(err.value)


def test_prefix_may_be_left_out_when_not_required():
    assert parse_chainage("12+345", require_prefix=False) == Chainage(12345.0, "K")
    assert parse_chainage("DK12+345", require_prefix=False).prefix == "DK"


def test_numbers_and_chainages_pass_through():
    assert parse_chainage(12345.6) == Chainage(12345.6, "K")
    assert parse_chainage(2350) == Chainage(2350.0)
    value = Chainage(5.0, "DK")
    assert parse_chainage(value) is value


@pytest.mark.parametrize("value", [None, True, [1, 2], -5.0, math.nan])
def test_not_a_chainage(value):
    with pytest.raises(ValueError):
        parse_chainage(value)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("K1+200-K3+050", 1200.0, 3050.0),
        ("K1+200~K3+050", 1200.0, 3050.0),
        ("K1+200 ~ K3+050", 1200.0, 3050.0),
        ("K1+200 - K3+050", 1200.0, 3050.0),
        ("K1+200～K3+050", 1200.0, 3050.0),
        ("K1+200－K3+050", 1200.0, 3050.0),
        ("K1+200—K3+050", 1200.0, 3050.0),
        ("K1+200至K3+050", 1200.0, 3050.0),
        ("  K1577+655-K1586+578 ", 1577655.0, 1586578.0),
        ("K1＋200～K3＋050", 1200.0, 3050.0),
        ("DK1+200.5-DK3+050", 1200.5, 3050.0),
        ("K3+050-K1+200", 3050.0, 1200.0),  # against the direction of chainage
    ],
)
def test_parse_chainage_range(text, start, end):
    rng = parse_chainage_range(text)
    assert (rng.start.metres, rng.end.metres) == (start, end)
    assert (rng.low, rng.high) == (min(start, end), max(start, end))


def test_range_keeps_prefixes_and_formats_with_a_hyphen():
    rng = parse_chainage_range("DK1+200 ~ DK3+050.5")
    assert rng == ChainageRange(Chainage(1200.0, "DK"), Chainage(3050.5, "DK"))
    assert str(rng) == "DK1+200-DK3+050.5"
    assert format_chainage(rng) == "DK1+200-DK3+050.5"


@pytest.mark.parametrize(
    "text",
    ["K1+200", "", "K1+200-K3+050-K4+000", "K1+200-K3+05", "K1+200~", "-K3+050", "1+200-3+050"],
)
def test_malformed_range_names_the_string(text):
    with pytest.raises(ValueError, match="chainage range") as err:
        parse_chainage_range(text)
    assert repr(text) in str(err.value)


def test_malformed_range_also_names_the_bad_end():
    with pytest.raises(ValueError, match="'K3\\+05'"):
        parse_chainage_range("K1+200-K3+05")


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("metres", "kwargs", "text"),
    [
        (0.0, {}, "K0+000"),
        (2350, {}, "K2+350"),
        (12345.5, {}, "K12+345.5"),
        (12345.678, {}, "K12+345.678"),
        (12345.0004, {}, "K12+345"),
        (999.9999, {}, "K1+000"),  # rounding carries into the kilometres
        (1577655.0, {}, "K1577+655"),
        (5.5, {"prefix": "DK"}, "DK0+005.5"),
        (12345.06, {"decimals": 1}, "K12+345.1"),
        (12345.6, {"decimals": 0}, "K12+346"),
        (12345.04, {"decimals": 1}, "K12+345"),
    ],
)
def test_format_chainage(metres, kwargs, text):
    assert format_chainage(metres, **kwargs) == text


def test_chainage_object_formats_with_its_prefix():
    assert str(Chainage(12345.5, "DK")) == "DK12+345.5"
    assert format_chainage(Chainage(100.0, "CK")) == "CK0+100"


@pytest.mark.parametrize("metres", [-0.5, math.nan, math.inf])
def test_format_refuses_what_is_not_a_chainage(metres):
    with pytest.raises(ValueError):
        format_chainage(metres)


@pytest.mark.parametrize(
    ("metres", "prefix"), [(-1.0, "K"), (math.nan, "K"), (1.0, "k"), (1.0, "KKKK")]
)
def test_invalid_chainage_cannot_be_built(metres, prefix):
    with pytest.raises(ValueError):
        Chainage(metres, prefix)


# --------------------------------------------------------------------------- properties

_prefixes = st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=3)
_fractions = st.one_of(
    st.just(""),
    st.integers(1, 999).map(lambda f: "." + f"{f:03d}".rstrip("0")),
)


@st.composite
def chainage_texts(draw) -> str:
    """Canonical chainage strings: prefix, kilometres, three-digit metres, up to mm."""
    km = draw(st.integers(0, 99_999))
    m = draw(st.integers(0, 999))
    return f"{draw(_prefixes)}{km}+{m:03d}{draw(_fractions)}"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(chainage_texts())
def test_format_of_parse_gives_the_string_back(text):
    value = parse_chainage(text)
    assert str(value) == text
    assert format_chainage(value) == text


@given(chainage_texts(), st.sampled_from(["", " ", "  ", "\t", "　"]))
def test_case_width_and_surrounding_space_do_not_matter(text, pad):
    expected = parse_chainage(text)
    assert parse_chainage(f"{pad}{text.lower()}{pad}") == expected
    assert parse_chainage(_fullwidth(text)) == expected


@given(st.floats(0, 1e8, allow_nan=False))
def test_parse_of_format_gives_the_metres_back(metres):
    text = format_chainage(metres)
    assert parse_chainage(text).metres == pytest.approx(metres, abs=0.0005 + 1e-9)
    assert format_chainage(parse_chainage(text)) == text


@given(chainage_texts(), chainage_texts(), st.sampled_from(["-", "~", " ~ ", "～", "至"]))
def test_range_round_trip(a, b, sep):
    rng = parse_chainage_range(f"{a}{sep}{b}")
    assert rng.start == parse_chainage(a)
    assert rng.end == parse_chainage(b)
    assert str(rng) == f"{a}-{b}"


# --------------------------------------------------------------------------- calibration


def _simple() -> Calibration:
    """K1+000 at 0 m, K2+000 at 1003 m, K3+000 at 1995 m: kilometres of 1003 and 992 m."""
    return Calibration.from_anchors([0.0, 1003.0, 1995.0], [1000.0, 2000.0, 3000.0])


def test_calibration_is_piecewise_linear_between_anchors():
    cal = _simple()
    chainage = np.array([1000.0, 1500.0, 2000.0, 2250.0, 2500.0, 3000.0])
    expected = np.array([0.0, 501.5, 1003.0, 1251.0, 1499.0, 1995.0])
    measures, status = cal.measures_at(chainage)
    np.testing.assert_allclose(measures, expected, atol=1e-9)
    assert np.all(status == ChainageStatus.OK)
    np.testing.assert_allclose(cal.chainage_at(expected), chainage, atol=1e-9)
    assert cal.measure_at(1500.0) == pytest.approx(501.5)


def test_calibration_matches_interpolation_everywhere_inside():
    cal = _simple()
    chainage = np.linspace(1000.0, 3000.0, 2001)
    expected = np.interp(chainage, [1000.0, 2000.0, 3000.0], [0.0, 1003.0, 1995.0])
    np.testing.assert_allclose(cal.measure_at(chainage), expected, atol=1e-9)
    np.testing.assert_allclose(cal.chainage_at(expected), chainage, atol=1e-9)


def test_calibration_extrapolates_the_end_pieces():
    cal = _simple()
    # Before the first anchor the first kilometre's scale (1.003) applies, after the
    # last the last kilometre's (0.992).
    assert cal.measure_at(500.0) == pytest.approx(-501.5)
    assert cal.measure_at(3500.0) == pytest.approx(1995.0 + 496.0)
    np.testing.assert_allclose(cal.chainage_at(np.array([-501.5, 2491.0])), [500.0, 3500.0])


def test_scalar_in_scalar_out():
    cal = _simple()
    assert isinstance(cal.measure_at(1500.0), float)
    for measure in (501.5, -100.0, 5000.0):  # inside and beyond both ends
        chainage = cal.chainage_at(measure)
        assert isinstance(chainage, float)
        assert cal.measure_at(chainage) == pytest.approx(measure)


def test_one_anchor_means_chainage_runs_metre_for_metre():
    cal = Calibration.from_anchors([0.0], [2350.0])
    assert cal.measure_at(2400.0) == pytest.approx(50.0)
    assert cal.chainage_at(125.0) == pytest.approx(2475.0)


@pytest.mark.parametrize(
    ("measures", "chainages"),
    [
        ([0.0, 1000.0, 2000.0], [1000.0, 3000.0, 2000.0]),  # chainage goes back
        ([0.0, 1000.0, 500.0], [1000.0, 2000.0, 3000.0]),  # posts out of order on the ground
        ([0.0, 1000.0, 1000.0], [1000.0, 2000.0, 3000.0]),  # two posts at one place
        ([0.0, 1000.0], [1000.0, 1000.0]),  # one chainage at two places
    ],
)
def test_anchors_out_of_order_are_refused(measures, chainages):
    with pytest.raises(ValueError, match="must increase along the line"):
        Calibration.from_anchors(measures, chainages)


def test_a_calibration_needs_an_anchor():
    with pytest.raises(ValueError, match="at least one"):
        Calibration.from_anchors([], [])


def test_chain_breaks_out_of_order_are_refused():
    breaks = [ChainBreakSpec(10500.0, 10550.0), ChainBreakSpec(10200.0, 10210.0)]
    with pytest.raises(ValueError, match="in order"):
        Calibration.from_anchors([0.0, 2000.0], [9000.0, 11000.0], breaks)


# A short chain (短链): K10+500 = K10+550, chainages between do not exist.
# Posts: K9+000 at 0 m, K10+000 at 1000 m, K11+000 at 1950 m. K11+000 is
# 950 m of continuous chainage after K10+000, so the scale there is 1 and the
# break lies at measure 1500.


def _short_chain() -> Calibration:
    return Calibration.from_anchors(
        [0.0, 1000.0, 1950.0], [9000.0, 10000.0, 11000.0], [ChainBreakSpec(10500.0, 10550.0)]
    )


def test_short_chain_continuous_chainage():
    cal = _short_chain()
    np.testing.assert_allclose(cal.anchor_continuous, [9000.0, 10000.0, 10950.0])
    np.testing.assert_allclose(cal.break_measures(), [1500.0])


@pytest.mark.parametrize("chainage", [10500.001, 10520.0, 10549.9])
def test_chainage_inside_a_short_chain_does_not_exist(chainage):
    cal = _short_chain()
    measures, status = cal.measures_at(np.array([10400.0, chainage, 10600.0]))
    assert list(status) == [ChainageStatus.OK, ChainageStatus.NONEXISTENT, ChainageStatus.OK]
    assert np.isnan(measures[1])
    np.testing.assert_allclose(measures[[0, 2]], [1400.0, 1550.0])
    with pytest.raises(ValueError, match="does not exist") as err:
        cal.measure_at(chainage)
    assert format_chainage(chainage) in str(err.value)


def test_both_sides_of_a_short_chain_are_one_place():
    cal = _short_chain()
    assert cal.measure_at(10500.0) == pytest.approx(1500.0)
    assert cal.measure_at(10550.0) == pytest.approx(1500.0)
    np.testing.assert_allclose(cal.measure_at(np.array([10499.0, 10551.0])), [1499.0, 1501.0])


def test_chainage_either_side_of_a_short_chain():
    cal = _short_chain()
    measures = np.array([0.0, 1000.0, 1499.0, 1500.0, 1501.0, 1950.0, 2000.0])
    # The break itself is reported with its back chainage.
    expected = [9000.0, 10000.0, 10499.0, 10500.0, 10551.0, 11000.0, 11050.0]
    np.testing.assert_allclose(cal.chainage_at(measures), expected)
    # Every chainage that exists comes back, except the ahead chainage of the break,
    # which is the same place as its back chainage.
    ok = np.array([9000.0, 10499.9, 10500.0, 10550.001, 10550.1, 11200.0])
    np.testing.assert_allclose(cal.chainage_at(cal.measure_at(ok)), ok, atol=1e-9)
    assert cal.chainage_at(cal.measure_at(10550.0)) == pytest.approx(10500.0)


def test_post_inside_a_short_chain_is_refused():
    with pytest.raises(ValueError, match="K10\\+520 lies inside a short chain"):
        Calibration.from_anchors(
            [0.0, 1520.0, 2000.0], [9000.0, 10520.0, 11000.0], [ChainBreakSpec(10500, 10550)]
        )


# A long chain (长链): K10+500 = K10+450, chainages K10+450 to K10+500 occur
# twice. Posts K9+000 at 0 m, K10+000 at 1000 m and K11+000 at 2050 m keep the
# scale at 1, so the first K10+475 is at 1475 m and the second at 1525 m.


def _long_chain() -> Calibration:
    return Calibration.from_anchors(
        [0.0, 1000.0, 2050.0], [9000.0, 10000.0, 11000.0], [ChainBreakSpec(10500.0, 10450.0)]
    )


def test_chainage_on_a_long_chain_is_ambiguous():
    cal = _long_chain()
    chainage = np.array([10400.0, 10450.0, 10475.0, 10500.0, 10600.0])
    first, status = cal.measures_at(chainage)
    second, status2 = cal.measures_at(chainage, occurrence=2)
    ambiguous = ChainageStatus.AMBIGUOUS
    assert list(status) == list(status2) == [0, ambiguous, ambiguous, ambiguous, 0]
    np.testing.assert_allclose(first, [1400.0, 1450.0, 1475.0, 1500.0, 1650.0])
    np.testing.assert_allclose(second, [1400.0, 1500.0, 1525.0, 1550.0, 1650.0])
    assert cal.measure_at(10475.0) == pytest.approx(1475.0)
    assert cal.measure_at(10475.0, occurrence=2) == pytest.approx(1525.0)


def test_both_occurrences_give_back_their_chainage():
    cal = _long_chain()
    chainage = np.linspace(10455.0, 10500.0, 10)
    for occurrence in (1, 2):
        measures = cal.measure_at(chainage, occurrence=occurrence)
        np.testing.assert_allclose(cal.chainage_at(measures), chainage, atol=1e-9)
    # The second K10+450 is the break itself, reported with its back chainage.
    assert cal.measure_at(10450.0, occurrence=2) == pytest.approx(1500.0)
    assert cal.chainage_at(1500.0) == pytest.approx(10500.0)
    np.testing.assert_allclose(
        cal.chainage_at(np.array([1475.0, 1500.0, 1525.0, 1550.0])),
        [10475.0, 10500.0, 10475.0, 10500.0],
    )


def test_post_on_a_long_chain_keeps_the_posts_increasing():
    # K10+480 found on its first occurrence, 20 m before the break.
    cal = Calibration.from_anchors(
        [0.0, 1000.0, 1480.0, 2050.0],
        [9000.0, 10000.0, 10480.0, 11000.0],
        [ChainBreakSpec(10500.0, 10450.0)],
    )
    np.testing.assert_allclose(cal.anchor_continuous, [9000.0, 10000.0, 10480.0, 11050.0])


@given(
    st.lists(
        st.tuples(
            st.floats(0, 9_999_999, allow_nan=False) | st.sampled_from([0.0, 999.95, 1999.9999]),
            st.sampled_from(["K", "DK", "AK"]),
        ),
        max_size=20,
    ),
    st.integers(0, 3),
)
def test_chainages_formatted_at_once_read_as_one_at_a_time(pairs, decimals):
    """The bulk formatter of the risks table's chainage column writes what
    ``format_chainage`` writes for each value: rounding, carrying into the next
    kilometre, trailing zeros dropped."""
    from linerisk.riskrows import format_chainages

    values = np.array([v for v, _p in pairs], dtype=float)
    prefixes = [p for _v, p in pairs]
    assert format_chainages(values, prefixes, decimals) == [
        format_chainage(v, prefix=p, decimals=decimals) for v, p in pairs
    ]

"""SII / RII against PHEindicatormethods ``testdata_SII.xlsx`` (METHODS.md 7b).

Point values are deterministic (<= 1e-12 relative). Confidence limits come from simulation
and are checked as the package does, within 5% relative, with 100,000 draws and a fixed seed.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from scipy import special

from metrics.stats import sii

AREA1 = {
    "population": [7291, 7997, 6105, 7666, 5790, 6934, 5918, 5974, 7147, 7534],
    "value": [
        75.933459010308098,
        78.344238272784295,
        83.836063104165405,
        83.637539966493094,
        80.465503152955904,
        81.115675985702197,
        81.693083571856207,
        84.190006206098701,
        80.595564108147201,
        86.289434957862397,
    ],
    "lower": [
        72.722053054645301,
        75.250980219080205,
        80.869729512475899,
        80.157578356035998,
        77.130878596927502,
        78.049998681117799,
        79.011578491948001,
        81.445728276934304,
        75.827185168894005,
        83.2190593454592,
    ],
    "upper": [
        79.144864965970797,
        81.4374963264884,
        86.802396695854895,
        87.117501576950104,
        83.800127708984206,
        84.181353290286594,
        84.374588651764398,
        86.934284135263098,
        85.363943047400397,
        89.359810570265594,
    ],
    "se": [
        1.6384724263585451,
        1.578192884542907,
        1.5134355059640296,
        1.7754906175801293,
        1.7013390591981388,
        1.5641210737675499,
        1.3681148366878566,
        1.4001418005940802,
        2.4328463975781616,
        1.5665181695934678,
    ],
}
AREA2 = {
    "population": [21675, 20065, 19750, 24713, 20112, 19618, 22408, 19752, 18939, 19312],
    "value": [
        70.548531859999997,
        71.571557339999998,
        72.486986709999996,
        73.519855190000001,
        73.146054250000006,
        76.158987120000006,
        78.654448709999997,
        80.564769609999999,
        80.854866270000002,
        79.971125299999997,
    ],
    "lower": [
        70.098531859999994,
        71.121557339999995,
        72.036986709999994,
        73.069855189999998,
        72.696054250000003,
        75.708987120000003,
        78.204448709999994,
        80.114769609999996,
        80.404866269999999,
        79.521125299999994,
    ],
    "upper": [
        70.99853186,
        72.14,
        73.209999999999994,
        73.7,
        75.8,
        78.760000000000005,
        79.77,
        81.209999999999994,
        81.304866270000005,
        80.900000000000006,
    ],
    "se": [
        0.22959183673469533,
        0.25980680102040948,
        0.29923808418367348,
        0.16075122704081746,
        0.79182289540816175,
        0.77831961224489843,
        0.39937532908163315,
        0.27939550765306059,
        0.22959183673469533,
        0.35175375000000292,
    ],
}


def frame(area: dict, quantiles: int = 10) -> pl.DataFrame:
    data = {key: values[:quantiles] for key, values in area.items()}
    return pl.DataFrame({"quantile": list(range(1, quantiles + 1)), **data})


D1, D2, D3, D4 = frame(AREA1), frame(AREA2), frame(AREA1, 5), frame(AREA2, 5)
COLUMNS = dict(quantile="quantile", population="population", value="value")
CLS = dict(lower="lower", upper="upper")

# RecordNo: data, confidence, sii, rii, sii_lower, sii_upper, rii_lower, rii_upper, intercept
RECORDS = {
    1: (
        D1,
        0.95,
        6.9346164736688189,
        1.0888180804446217,
        3.1275946176508169,
        10.7586873680794,
        1.0383690591642838,
        1.1412993360251238,
        None,
    ),
    11: (
        D2,
        0.95,
        12.547846636351798,
        1.180885620848795,
        11.936156426792138,
        13.163020132396579,
        1.1713706914325628,
        1.1904396357244886,
        None,
    ),
    21: (
        D1,
        0.99,
        6.9346164736688189,
        1.0888180804446217,
        1.9243274437391116,
        11.99208403800279,
        1.0234148326541768,
        1.1587677685047233,
        None,
    ),
    31: (
        D2,
        0.99,
        12.547846636351798,
        1.180885620848795,
        11.743647833205888,
        13.347203652453951,
        1.168320603472105,
        1.1934312559878586,
        None,
    ),
    61: (D3, 0.95, 7.9193341471008738, 1.1037116952527257, None, None, None, None, None),
    66: (D4, 0.95, 3.6215563376545648, 1.0513892712719326, None, None, None, None, None),
    246: (
        D1,
        0.95,
        6.9346164736688189,
        1.0888180804446217,
        3.1275946176508169,
        10.7586873680794,
        1.0383690591642838,
        1.1412993360251238,
        78.076630782316712,
    ),
    256: (
        D2,
        0.95,
        12.547846636351798,
        1.180885620848795,
        11.936156426792138,
        13.163020132396579,
        1.1713706914325628,
        1.1904396357244886,
        69.368955793565931,
    ),
}


@pytest.mark.parametrize("record", sorted(RECORDS))
@pytest.mark.parametrize("inputs", [dict(se="se"), CLS])
def test_phe_sii_reference_records(record, inputs):
    data, conf, *expected = RECORDS[record]
    want_intercept = expected[-1] is not None
    result = sii(
        data, **COLUMNS, **inputs, confidence=conf, seed=record, intercept=want_intercept
    ).row(0, named=True)
    assert result["sii"] == pytest.approx(expected[0], rel=1e-12)
    assert result["rii"] == pytest.approx(expected[1], rel=1e-12)
    names = ["sii_lower", "sii_upper", "rii_lower", "rii_upper"]
    for name, value in zip(names, expected[2:6], strict=True):
        if value is not None:
            assert result[name] == pytest.approx(value, rel=0.05)
    if want_intercept:
        assert result["intercept"] == pytest.approx(expected[-1], rel=1e-12)


def test_se_from_limits_equals_supplied_se():
    # The workbook's standard errors were derived with z = 1.96 rather than qnorm(0.975), so
    # the same draws give limits a few parts per million apart.
    by_se = sii(D2, **COLUMNS, se="se", seed=5)
    by_cls = sii(D2, **COLUMNS, **CLS, seed=5)
    assert_frame_equal(by_se, by_cls, check_exact=False, rel_tol=1e-4)


def test_output_columns_and_multiple_levels():
    one = sii(D1, **COLUMNS, se="se", seed=1, reps=2000)
    assert one.columns == ["sii", "sii_lower", "sii_upper", "rii", "rii_lower", "rii_upper"]
    assert one.height == 1
    two = sii(D1, **COLUMNS, se="se", seed=1, confidence=(0.95, 99.8), intercept=True)
    assert two.columns == [
        "sii",
        "sii_lower95_0",
        "sii_upper95_0",
        "sii_lower99_8",
        "sii_upper99_8",
        "rii",
        "rii_lower95_0",
        "rii_upper95_0",
        "rii_lower99_8",
        "rii_upper99_8",
        "intercept",
    ]
    row = two.row(0, named=True)
    assert row["sii_lower99_8"] < row["sii_lower95_0"] < row["sii"] < row["sii_upper95_0"]
    assert row["sii_upper95_0"] < row["sii_upper99_8"]
    # one simulation serves every level, so the 95% limits equal a single-level run's
    single = sii(D1, **COLUMNS, se="se", seed=1).row(0, named=True)
    assert row["sii_lower95_0"] == single["sii_lower"]


def test_seeded_limits_are_reproducible_and_rows_order_free():
    first = sii(D2, **COLUMNS, se="se", seed=42, reps=5000)
    assert_frame_equal(first, sii(D2.reverse(), **COLUMNS, se="se", seed=42, reps=5000))
    generator_run = sii(D2, **COLUMNS, se="se", seed=np.random.default_rng(42), reps=5000)
    assert_frame_equal(first, generator_run)


def test_point_estimate_is_population_weighted_least_squares():
    a = np.array(AREA2["population"]) / sum(AREA2["population"])
    rank = np.cumsum(a) - a / 2
    slope, intercept = np.polyfit(rank, AREA2["value"], 1, w=np.sqrt(a))
    result = sii(D2, **COLUMNS, se="se", reps=1000, multiplier=100, intercept=True)
    assert result["sii"][0] == pytest.approx(100 * slope, rel=1e-10)
    assert result["rii"][0] == pytest.approx((intercept + slope) / intercept, rel=1e-10)
    assert result["intercept"][0] == pytest.approx(intercept, rel=1e-10)


def test_negative_multiplier_reverses_polarity():
    plain = sii(D1, **COLUMNS, se="se", seed=3).row(0, named=True)
    flipped = sii(D1, **COLUMNS, se="se", seed=3, multiplier=-1).row(0, named=True)
    assert flipped["sii"] == pytest.approx(-plain["sii"], rel=1e-14)
    assert flipped["rii"] == pytest.approx(1 / plain["rii"], rel=1e-14)
    # Same draws; the order statistic positions differ by one after the sign flip.
    assert flipped["sii_lower"] == pytest.approx(-plain["sii_upper"], rel=1e-3)
    assert flipped["rii_upper"] == pytest.approx(1 / plain["rii_lower"], rel=1e-3)
    assert flipped["sii_lower"] < flipped["sii"] < flipped["sii_upper"]


RATES = pl.DataFrame(
    {
        "decile": list(range(1, 11)),
        "births": [5200, 5100, 5000, 4900, 4800, 4700, 4600, 4500, 4400, 4300],
        "rate": [6.1, 5.4, 5.2, 4.6, 4.4, 4.0, 3.7, 3.5, 3.1, 2.9],  # per 1,000
        "lower": [4.2, 3.6, 3.4, 2.9, 2.7, 2.4, 2.1, 1.9, 1.6, 1.5],
        "upper": [8.5, 7.7, 7.5, 6.8, 6.6, 6.1, 5.8, 5.5, 5.1, 4.9],
    }
)
RATE_COLUMNS = dict(quantile="decile", population="births", value="rate", **CLS)


def test_rate_without_transform_matches_other_point_values():
    as_rate = sii(RATES, **RATE_COLUMNS, value_type="rate", seed=1).row(0, named=True)
    as_other = sii(RATES, **RATE_COLUMNS, seed=1).row(0, named=True)
    assert as_rate["sii"] == pytest.approx(as_other["sii"], rel=1e-12)
    assert as_rate["rii"] == pytest.approx(as_other["rii"], rel=1e-12)
    assert as_rate["sii_lower"] < as_rate["sii"] < as_rate["sii_upper"] < 0


def test_rate_with_log_transform():
    result = sii(
        RATES, **RATE_COLUMNS, value_type="rate", transform=True, seed=2, intercept=True
    ).row(0, named=True)
    a = np.array(RATES["births"]) / RATES["births"].sum()
    rank = np.cumsum(a) - a / 2
    slope, intercept = np.polyfit(rank, np.log(RATES["rate"].to_numpy()), 1, w=np.sqrt(a))
    y0, y1 = math.exp(intercept), math.exp(intercept + slope)
    assert result["sii"] == pytest.approx(y1 - y0, rel=1e-10)
    assert result["rii"] == pytest.approx(y1 / y0, rel=1e-10)
    assert result["intercept"] == pytest.approx(y0, rel=1e-10)
    assert result["sii_lower"] < result["sii"] < result["sii_upper"]
    assert result["rii_lower"] < result["rii"] < result["rii_upper"] < 1


def test_proportion_with_logit_transform_and_percentage_multiplier():
    props = RATES.with_columns(pl.col("rate", "lower", "upper") / 100)
    result = sii(
        props, **RATE_COLUMNS, value_type="proportion", transform=True, multiplier=100, seed=3
    ).row(0, named=True)
    a = np.array(RATES["births"]) / RATES["births"].sum()
    rank = np.cumsum(a) - a / 2
    slope, intercept = np.polyfit(rank, special.logit(props["rate"].to_numpy()), 1, w=np.sqrt(a))
    expected = (special.expit(intercept + slope) - special.expit(intercept)) * 100
    assert result["sii"] == pytest.approx(expected, rel=1e-10)
    assert result["sii_lower"] < result["sii"] < result["sii_upper"]


def test_missing_values_give_a_nan_row():
    data = D1.with_columns(
        pl.when(pl.col("quantile") == 4).then(None).otherwise(pl.col("se")).alias("se")
    )
    result = sii(data, **COLUMNS, se="se", reps=1000)
    assert result.width == 6 and all(math.isnan(v) for v in result.row(0))


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        (D1.head(4), {}, "5 to 100 quantiles"),
        (D1.with_columns(pl.lit(1).alias("quantile")), {}, "unique"),
        (D1.with_columns(pl.col("population") * 0), {}, "population > 0"),
        (D1.with_columns(-pl.col("se")), {}, "standard errors must be >= 0"),
        (D1, {"reps": 999}, "reps must be at least 1000"),
        (D1, {"value_type": "ratio"}, "value_type"),
        (D1, {"transform": True, "value_type": "rate"}, "not se"),
        (D1, {"transform": True}, "needs value_type"),
        (D1, {"confidence": 0.0}, "confidence"),
        (D1, {"value_type": "proportion"}, "strictly between 0 and 1"),
    ],
)
def test_invalid_inputs_raise(data, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sii(data, **COLUMNS, se="se", **kwargs)


def test_needs_se_or_both_limits_and_known_columns():
    with pytest.raises(ValueError, match="give se, or both"):
        sii(D1, **COLUMNS, lower="lower")
    with pytest.raises(ValueError, match="not found"):
        sii(D1, quantile="quantile", population="pop", value="value", se="se")


@settings(max_examples=25, deadline=None)
@given(
    values=st.lists(st.floats(min_value=1, max_value=100), min_size=5, max_size=12),
    pops=st.lists(st.integers(min_value=100, max_value=10**6), min_size=12, max_size=12),
    conf=st.sampled_from([0.95, 0.99, 0.998]),
)
def test_simulated_interval_contains_estimate(values, pops, conf):
    k = len(values)
    data = pl.DataFrame(
        {
            "quantile": range(k),
            "population": pops[:k],
            "value": values,
            "se": [v / 50 for v in values],
        }
    )
    row = sii(data, **COLUMNS, se="se", confidence=conf, seed=0, reps=4000).row(0, named=True)
    assert row["sii_lower"] <= row["sii"] <= row["sii_upper"]

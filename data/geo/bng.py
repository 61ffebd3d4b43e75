"""Latitude and longitude (WGS84) to British National Grid eastings and northings (metres).

The standard formulae of Ordnance Survey's "A guide to coordinate systems in Great Britain":
its approximate 7-parameter Helmert transformation from WGS84 (taken as ETRS89) to OSGB36 on
the Airy 1830 ellipsoid (good to about 5 m), with the cartesian conversions of Annex B, then
the National Grid transverse Mercator projection of Annex C (good to about 1 mm). The
definitive OSTN15 transformation would remove the few metres of the Helmert approximation;
a map of trusts does not need it.
"""

from __future__ import annotations

import math

# Ellipsoids: semi-major and semi-minor axes (metres).
GRS80 = (6_378_137.000, 6_356_752.3141)
AIRY_1830 = (6_377_563.396, 6_356_256.909)
# National Grid projection: scale on the central meridian, true origin, false origin.
F0 = 0.9996012717
LAT0, LON0 = math.radians(49.0), math.radians(-2.0)
E0, N0 = 400_000.0, -100_000.0
# Helmert, ETRS89 -> OSGB36: translations (m), scale (ppm), rotations (arc seconds).
TX, TY, TZ = -446.448, 125.157, -542.060
SCALE_PPM = 20.4894
RX, RY, RZ = -0.1502, -0.2470, -0.8421


def _cartesian(lat: float, lon: float, height: float, ellipsoid: tuple[float, float]):
    a, b = ellipsoid
    e2 = 1 - (b * b) / (a * a)
    nu = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
    return ((nu + height) * math.cos(lat) * math.cos(lon),
            (nu + height) * math.cos(lat) * math.sin(lon),
            ((1 - e2) * nu + height) * math.sin(lat))


def _geodetic(x: float, y: float, z: float, ellipsoid: tuple[float, float]):
    """Latitude and longitude (radians) of a cartesian point, by the guide's iteration."""
    a, b = ellipsoid
    e2 = 1 - (b * b) / (a * a)
    p = math.hypot(x, y)
    lat = math.atan2(z, p * (1 - e2))
    for _ in range(10):
        nu = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
        lat = math.atan2(z + e2 * nu * math.sin(lat), p)
    return lat, math.atan2(y, x)


def _helmert(x: float, y: float, z: float):
    s = SCALE_PPM * 1e-6
    rx, ry, rz = (math.radians(r / 3600) for r in (RX, RY, RZ))
    return (TX + (1 + s) * x - rz * y + ry * z,
            TY + rz * x + (1 + s) * y - rx * z,
            TZ - ry * x + rx * y + (1 + s) * z)


def osgb36_to_grid(lat_deg: float, lon_deg: float) -> tuple[float, float]:
    """Easting and northing of an OSGB36 latitude and longitude (degrees), Annex C."""
    a, b = AIRY_1830
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    e2 = 1 - (b * b) / (a * a)
    n = (a - b) / (a + b)
    sin, cos, tan = math.sin(lat), math.cos(lat), math.tan(lat)
    nu = a * F0 / math.sqrt(1 - e2 * sin * sin)
    rho = a * F0 * (1 - e2) / (1 - e2 * sin * sin) ** 1.5
    eta2 = nu / rho - 1
    dlat, slat = lat - LAT0, lat + LAT0
    m = b * F0 * (
        (1 + n + 5 / 4 * n**2 + 5 / 4 * n**3) * dlat
        - (3 * n + 3 * n**2 + 21 / 8 * n**3) * math.sin(dlat) * math.cos(slat)
        + (15 / 8 * n**2 + 15 / 8 * n**3) * math.sin(2 * dlat) * math.cos(2 * slat)
        - 35 / 24 * n**3 * math.sin(3 * dlat) * math.cos(3 * slat)
    )
    i = m + N0
    ii = nu / 2 * sin * cos
    iii = nu / 24 * sin * cos**3 * (5 - tan**2 + 9 * eta2)
    iiia = nu / 720 * sin * cos**5 * (61 - 58 * tan**2 + tan**4)
    iv = nu * cos
    v = nu / 6 * cos**3 * (nu / rho - tan**2)
    vi = nu / 120 * cos**5 * (5 - 18 * tan**2 + tan**4 + 14 * eta2 - 58 * tan**2 * eta2)
    dl = lon - LON0
    return (E0 + iv * dl + v * dl**3 + vi * dl**5,
            i + ii * dl**2 + iii * dl**4 + iiia * dl**6)


def wgs84_to_grid(lat_deg: float, lon_deg: float) -> tuple[float, float]:
    """British National Grid easting and northing (metres) of a WGS84 latitude and longitude.

    Helmert datum shift to OSGB36 (height taken as 0), then :func:`osgb36_to_grid`. Within
    about 5 m of the definitive OSTN15 transformation across Great Britain.
    """
    if not (-90 <= lat_deg <= 90 and -180 <= lon_deg <= 180):
        raise ValueError(f"latitude {lat_deg} or longitude {lon_deg} is out of range")
    x, y, z = _helmert(*_cartesian(math.radians(lat_deg), math.radians(lon_deg), 0.0, GRS80))
    lat, lon = _geodetic(x, y, z, AIRY_1830)
    return osgb36_to_grid(math.degrees(lat), math.degrees(lon))

"""Is a photo's location inside the regency an objection is about?

Regency boundaries come from a GeoJSON FeatureCollection (``regencies.geojson`` next to
this module by default): one feature per regency, ``properties.code`` the Kemendagri code
(``35.17``), geometry a Polygon or MultiPolygon in ``[longitude, latitude]`` order.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

BOUNDS_FILE: Final = Path(__file__).resolve().parent / "regencies.geojson"

Ring = tuple[tuple[float, float], ...]
Polygon = tuple[Ring, ...]

_REGENCY_CODE = re.compile(r"[0-9]{2}\.[0-9]{2}")


class UnknownRegencyError(LookupError):
    """The bounds file has no boundary for a regency."""

    def __init__(self, regency: str, source: str) -> None:
        super().__init__(
            f"regency {regency} has no known boundary: add its boundary to the bounds file "
            f"({source}) before checking locations in it"
        )
        self.regency = regency


class RegencyBounds:
    """Boundaries of regencies by code: each a list of polygons (outer ring, then holes).

    Rings are sequences of ``(longitude, latitude)`` points.
    """

    def __init__(self, shapes: Mapping[str, Sequence[Polygon]], source: str = "in memory") -> None:
        self._shapes = {code: tuple(polygons) for code, polygons in shapes.items()}
        self.source = source

    def knows(self, regency: str) -> bool:
        """Whether a boundary for ``regency`` is known."""
        return regency in self._shapes

    def regencies(self) -> tuple[str, ...]:
        """The codes of all regencies with a known boundary, sorted."""
        return tuple(sorted(self._shapes))

    def contains(self, regency: str, latitude: float, longitude: float) -> bool:
        """Whether the point lies inside any part of the regency (and in none of its holes).

        Raises UnknownRegencyError when the regency has no known boundary.
        """
        polygons = self._shapes.get(regency)
        if polygons is None:
            raise UnknownRegencyError(regency, self.source)
        return any(_in_polygon(polygon, longitude, latitude) for polygon in polygons)


def _in_polygon(polygon: Polygon, x: float, y: float) -> bool:
    outer, *holes = polygon
    return _in_ring(outer, x, y) and not any(_in_ring(hole, x, y) for hole in holes)


def _in_ring(ring: Ring, x: float, y: float) -> bool:
    inside = False
    x1, y1 = ring[-1]
    for x2, y2 in ring:
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
        x1, y1 = x2, y2
    return inside


def load_bounds(path: Path | None = None) -> RegencyBounds:
    """Read regency boundaries from a GeoJSON file (the packaged one by default).

    Raises ValueError, naming the file and the feature, when the file is malformed.
    """
    if path is None:
        return _packaged_bounds()
    return _read_bounds(path)


@functools.cache
def _packaged_bounds() -> RegencyBounds:
    return _read_bounds(BOUNDS_FILE)


class _MalformedFeatureError(ValueError):
    pass


def _read_bounds(path: Path) -> RegencyBounds:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a JSON file: {error}") from error
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ValueError(f"{path}: not a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise ValueError(f"{path}: the FeatureCollection has no list of features")
    shapes: dict[str, list[Polygon]] = {}
    for index, feature in enumerate(features):
        try:
            code, polygons = _read_feature(feature)
            if code in shapes:
                raise _MalformedFeatureError(f"regency {code} appears twice")
        except _MalformedFeatureError as error:
            raise ValueError(f"{path}: feature {index}: {error}") from None
        shapes[code] = polygons
    return RegencyBounds(shapes, source=str(path))


def _read_feature(feature: Any) -> tuple[str, list[Polygon]]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _MalformedFeatureError("not a GeoJSON Feature")
    properties = feature.get("properties")
    code = properties.get("code") if isinstance(properties, dict) else None
    if not isinstance(code, str):
        raise _MalformedFeatureError("properties.code (the regency code, e.g. 35.17) is missing")
    if not _REGENCY_CODE.fullmatch(code):
        raise _MalformedFeatureError(f"properties.code {code!r} is not a regency code like 35.17")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        raise _MalformedFeatureError(f"regency {code} has no geometry")
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "Polygon":
        return code, [_read_polygon(coordinates)]
    if kind == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            raise _MalformedFeatureError("a MultiPolygon needs a non-empty list of polygons")
        return code, [_read_polygon(part) for part in coordinates]
    raise _MalformedFeatureError(
        f"regency {code} has geometry type {kind!r}; only Polygon and MultiPolygon are supported"
    )


def _read_polygon(rings: Any) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise _MalformedFeatureError("a Polygon needs a non-empty list of rings")
    return tuple(_read_ring(ring) for ring in rings)


def _read_ring(ring: Any) -> Ring:
    if not isinstance(ring, list) or len(ring) < 4:
        raise _MalformedFeatureError("a ring needs at least four positions")
    points = tuple(_read_position(position) for position in ring)
    if points[0] != points[-1]:
        raise _MalformedFeatureError("a ring must end where it starts (closed ring)")
    return points


def _read_position(position: Any) -> tuple[float, float]:
    if (
        not isinstance(position, list)
        or len(position) < 2
        or not all(_is_number(value) for value in position[:2])
    ):
        raise _MalformedFeatureError(f"position {position!r} is not [longitude, latitude]")
    longitude, latitude = float(position[0]), float(position[1])
    if not (-180.0 <= longitude <= 180.0 and -90.0 <= latitude <= 90.0):
        raise _MalformedFeatureError(
            f"position {position!r} is out of range (GeoJSON order is [longitude, latitude])"
        )
    return longitude, latitude


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)

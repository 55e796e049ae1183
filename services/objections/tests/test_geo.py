"""Regency bounds: is a photo's location inside the regency an objection is about?"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bansos_objections.geo import BOUNDS_FILE, RegencyBounds, UnknownRegencyError, load_bounds


def box(lat0: float, lat1: float, lon0: float, lon1: float) -> list[list[float]]:
    return [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]


def feature(code: str, geometry: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": f"Kabupaten {code}", "source": "test"},
        "geometry": geometry,
    }


def write(path: Path, features: list[Any]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_the_packaged_file_knows_the_shipped_regencies() -> None:
    bounds = load_bounds()
    assert bounds.regencies() == ("33.16", "33.20", "35.17", "61.11")
    assert bounds.knows("35.17")
    assert not bounds.knows("35.78")
    assert load_bounds() is bounds


def test_every_shipped_boundary_says_it_is_approximate() -> None:
    document = json.loads(BOUNDS_FILE.read_text(encoding="utf-8"))
    for item in document["features"]:
        assert "approximate" in item["properties"]["source"]
        assert "BIG/Kemendagri" in item["properties"]["source"]


@pytest.mark.parametrize(
    ("regency", "latitude", "longitude", "inside"),
    [
        ("35.17", -7.55, 112.23, True),  # Jombang town
        ("35.17", -7.62, 112.10, True),  # Perak, west Jombang
        ("35.17", -7.25, 112.75, False),  # Surabaya
        ("35.17", -7.98, 112.63, False),  # Malang
        ("35.17", 7.55, 112.23, False),  # sign of the latitude flipped
        ("35.17", 112.23, -7.55, False),  # latitude and longitude swapped
        ("33.20", -6.59, 110.67, True),  # Jepara town
        ("33.20", -5.85, 110.43, True),  # Karimunjawa
        ("33.20", -6.97, 110.42, False),  # Semarang
        ("33.20", -6.10, 110.50, False),  # Java Sea between mainland and islands
        ("33.16", -6.97, 111.42, True),  # Blora town
        ("33.16", -7.15, 111.60, True),  # Cepu
        ("33.16", -7.55, 110.82, False),  # Surakarta
        ("61.11", -1.23, 109.96, True),  # Sukadana
        ("61.11", -1.60, 108.90, True),  # Karimata island
        ("61.11", -1.85, 109.97, False),  # Ketapang town
        ("61.11", -0.03, 109.33, False),  # Pontianak
    ],
)
def test_points_inside_and_outside_the_shipped_regencies(
    regency: str, latitude: float, longitude: float, inside: bool
) -> None:
    assert load_bounds().contains(regency, latitude, longitude) is inside


def test_an_unknown_regency_is_an_error_that_says_what_to_do() -> None:
    with pytest.raises(UnknownRegencyError) as caught:
        load_bounds().contains("35.78", -7.25, 112.75)
    message = str(caught.value)
    assert "35.78" in message
    assert "add its boundary to the bounds file" in message
    assert str(BOUNDS_FILE) in message
    assert caught.value.regency == "35.78"
    assert isinstance(caught.value, LookupError)


def test_a_polygon_hole_is_outside(tmp_path: Path) -> None:
    ring = {"type": "Polygon", "coordinates": [box(0, 10, 0, 10), box(4, 6, 4, 6)]}
    bounds = load_bounds(write(tmp_path / "hole.geojson", [feature("99.01", ring)]))
    assert bounds.contains("99.01", 2, 2)
    assert bounds.contains("99.01", 5, 8)
    assert not bounds.contains("99.01", 5, 5)
    assert not bounds.contains("99.01", 11, 5)


def test_a_multipolygon_counts_each_part_and_its_holes(tmp_path: Path) -> None:
    parts = {
        "type": "MultiPolygon",
        "coordinates": [[box(0, 10, 0, 10), box(4, 6, 4, 6)], [box(20, 30, 20, 30)]],
    }
    bounds = load_bounds(write(tmp_path / "multi.geojson", [feature("99.02", parts)]))
    assert bounds.contains("99.02", 1, 1)
    assert bounds.contains("99.02", 25, 25)
    assert not bounds.contains("99.02", 5, 5)
    assert not bounds.contains("99.02", 15, 15)


def test_a_concave_polygon(tmp_path: Path) -> None:
    u_shape = [[0, 0], [9, 0], [9, 9], [6, 9], [6, 3], [3, 3], [3, 9], [0, 9], [0, 0]]
    geometry = {"type": "Polygon", "coordinates": [u_shape]}
    bounds = load_bounds(write(tmp_path / "u.geojson", [feature("99.03", geometry)]))
    assert bounds.contains("99.03", latitude=6, longitude=1)
    assert bounds.contains("99.03", latitude=6, longitude=8)
    assert bounds.contains("99.03", latitude=1, longitude=4.5)
    assert not bounds.contains("99.03", latitude=6, longitude=4.5)


def test_bounds_can_be_built_in_memory() -> None:
    square = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0))
    bounds = RegencyBounds({"99.04": [(square,)]})
    assert bounds.contains("99.04", 0.5, 0.5)
    assert bounds.regencies() == ("99.04",)


def polygon(*rings: list[Any]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


GOOD = polygon(box(0, 1, 0, 1))
NOT_A_NUMBER = [[0, 0], ["a", 0], [1, 1], [0, 1], [0, 0]]


@pytest.mark.parametrize(
    ("features", "index", "problem"),
    [
        ([{"type": "Feature", "properties": {}, "geometry": GOOD}], 0, "properties.code"),
        ([feature("35.17", GOOD), feature("Jombang", GOOD)], 1, "not a regency code"),
        ([feature("35.17", {"type": "Point", "coordinates": [0, 0]})], 0, "'Point'"),
        ([feature("35.17", GOOD), feature("35.17", GOOD)], 1, "appears twice"),
        ([feature("35.17", polygon(box(0, 1, 0, 1)[:-1]))], 0, "closed"),
        ([feature("35.17", polygon([[0, 0], [1, 1], [0, 0]]))], 0, "four positions"),
        ([feature("35.17", polygon(box(0, 1, 0, 200)))], 0, "out of range"),
        ([feature("35.17", polygon(NOT_A_NUMBER))], 0, "[longitude, latitude]"),
        ([feature("35.17", {"type": "MultiPolygon", "coordinates": []})], 0, "MultiPolygon"),
        ([feature("35.17", None)], 0, "no geometry"),
        ([GOOD, "not a feature"], 0, "not a GeoJSON Feature"),
    ],
)
def test_a_malformed_feature_is_named_with_file_and_index(
    tmp_path: Path, features: list[Any], index: int, problem: str
) -> None:
    path = write(tmp_path / "bad.geojson", features)
    with pytest.raises(ValueError) as caught:
        load_bounds(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"feature {index}:" in message
    assert problem in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not a JSON file"),
        ('{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection"}', "no list of features"),
    ],
)
def test_a_malformed_file_is_named(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(text)
    with pytest.raises(ValueError, match=problem) as caught:
        load_bounds(path)
    assert str(path) in str(caught.value)

"""The optional official boundaries: read, normalised, and refused clearly when unusable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lasnaolo import environment, geo, reference

from conftest import SHARED

OFFICIAL = SHARED / "data" / "geo" / "kuntarajat-2023.geojson"


@pytest.mark.skipif(not OFFICIAL.exists(), reason=f"official boundaries not found at {OFFICIAL}")
def test_the_official_boundaries_load_with_every_municipality():
    boundaries = geo.load_municipality_boundaries(OFFICIAL)
    codes = {f["properties"]["municipality_code"] for f in boundaries["features"]}
    assert codes == reference.municipality_codes()


def write(tmp_path: Path, document) -> Path:
    path = tmp_path / "boundaries.geojson"
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return path


def feature(properties):
    return {"type": "Feature", "properties": properties, "geometry": {"type": "Point", "coordinates": [25.0, 61.0]}}


def test_codes_are_found_under_known_names_and_padded(tmp_path):
    path = write(tmp_path, {"type": "FeatureCollection", "features": [feature({"NATCODE": "91"}), feature({"kunta": 49})]})
    loaded = geo.load_municipality_boundaries(path)
    assert [f["properties"] for f in loaded["features"]] == [{"municipality_code": "091"}, {"municipality_code": "049"}]


@pytest.mark.parametrize(("document", "reason"), [
    ("not json at all", "not a GeoJSON text file"),
    ({"type": "Feature"}, "not a GeoJSON FeatureCollection"),
    ({"type": "FeatureCollection", "features": [feature({"name": "Espoo"})]}, "feature 1 has no municipality code"),
    ({"type": "FeatureCollection", "features": [feature({"NATCODE": "999"})]}, "municipality code '999'"),
    ({"type": "FeatureCollection", "features": []}, "holds no features"),
])
def test_unusable_files_are_refused_with_the_file_and_the_reason(tmp_path, document, reason):
    path = write(tmp_path, document)
    with pytest.raises(geo.BoundaryError) as caught:
        geo.load_municipality_boundaries(path)
    assert str(path) in str(caught.value) and reason in str(caught.value)


def test_the_file_is_configured_by_secrets_or_environment(tmp_path):
    assert geo.configured_path({}, {}) is None
    assert geo.configured_path({}, {environment.MUNICIPALITY_GEOJSON: "/x/kunnat.geojson"}) == Path("/x/kunnat.geojson")
    assert geo.configured_path({"maps": {"municipalities_geojson": "/y.geojson"}}, {}) == Path("/y.geojson")

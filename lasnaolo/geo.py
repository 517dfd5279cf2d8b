"""Official municipality boundaries for a true choropleth, when an installation configures them.

The product ships no boundary file (the tile map needs none); an administrator may point
`LASNAOLO_MUNICIPALITY_GEOJSON` (or `[maps] municipalities_geojson` in secrets) at a GeoJSON of
municipalities in WGS84 longitude/latitude, e.g. the National Land Survey's open data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from lasnaolo import environment, reference

# Where the municipality code may sit in a feature's properties (ours first, then the NLS name).
CODE_PROPERTIES = ("municipality_code", "NATCODE", "natcode", "kuntanro", "KUNTA", "kunta")


class BoundaryError(ValueError):
    """A configured boundary file that cannot be used; the message says which file and why."""


def configured_path(secrets: Mapping, environ: Mapping[str, str]) -> Path | None:
    maps = dict(secrets.get("maps", {})) if secrets else {}
    text = maps.get("municipalities_geojson") or environ.get(environment.MUNICIPALITY_GEOJSON)
    return Path(text).expanduser() if text else None


@lru_cache(maxsize=4)
def load_municipality_boundaries(path: Path) -> dict:
    """A FeatureCollection whose features carry `properties.municipality_code` (3 digits)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise BoundaryError(f"{path}: cannot be read ({error.strerror or error})") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BoundaryError(f"{path}: not a GeoJSON text file ({error})") from error
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise BoundaryError(f"{path}: not a GeoJSON FeatureCollection")
    features = []
    known = reference.municipality_codes()
    for number, feature in enumerate(document.get("features") or [], start=1):
        properties = feature.get("properties") or {}
        key = next((k for k in CODE_PROPERTIES if k in properties), None)
        if key is None:
            raise BoundaryError(f"{path}: feature {number} has no municipality code (one of {', '.join(CODE_PROPERTIES)})")
        code = str(properties[key]).zfill(3)
        if code not in known:
            raise BoundaryError(f"{path}: feature {number} has municipality code {code!r}, not in the 2023 division")
        features.append({"type": "Feature", "geometry": feature.get("geometry"),
                         "properties": {"municipality_code": code}})
    if not features:
        raise BoundaryError(f"{path}: holds no features")
    return {"type": "FeatureCollection", "features": features}

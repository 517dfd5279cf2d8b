"""What the browser receives. A chart's data goes to the browser whole (the page's websocket, "View
source", the PNG / SVG download), so a column a chart does not draw would be readable there even
though the page never shows it. Every builder's result therefore passes through
`only_encoded_fields`: each data frame keeps only the columns its view (or a view inheriting its
data) names in an encoding, transform, filter, selection or condition, and loses its index."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd
from altair.utils.schemapi import SchemaBase


_PLACEHOLDER = "lasnaolo_frame_"
_CHILD_VIEWS = ("layer", "hconcat", "vconcat", "concat", "spec")
_FIELD_LISTS = frozenset({"fields", "groupby", "fold", "flatten"})
# Transform operands that name a field (a string), each with the key that marks its transform.
_TRANSFORM_OPERANDS = {"lookup": "lookup", "pivot": "pivot", "impute": "impute", "density": "density",
                       "regression": "regression", "loess": "loess", "quantile": "quantile", "extent": "extent",
                       "stack": "groupby", "value": "pivot", "key": "impute", "on": ("regression", "loess")}
_DATUM = re.compile(r"""datum\s*(?:\.\s*([A-Za-z_$][\w$]*)|\[\s*(['"])(.*?)\2\s*\])""")


def _map_frames(obj: Any, replace: Callable[[pd.DataFrame], Any], memo: dict[int, Any],
                inline: Callable[[Any], Any] | None = None) -> Any:
    """A copy of an Altair object with every pandas frame in it replaced (the same frame by the
    same object, so layers that share data still share it). Data objects (inline values such as
    GeoJSON features, names, URLs) are kept as they are, or given to `inline`."""
    if isinstance(obj, pd.DataFrame):
        if id(obj) not in memo:
            memo[id(obj)] = replace(obj)
        return memo[id(obj)]
    if isinstance(obj, alt.Data):  # also InlineData, NamedData, UrlData
        if inline is None or obj._kwds.get("values", alt.Undefined) is alt.Undefined:
            return obj
        if id(obj) not in memo:
            memo[id(obj)] = inline(obj)
        return memo[id(obj)]
    if isinstance(obj, SchemaBase):
        args = [_map_frames(a, replace, memo, inline) for a in obj._args]
        kwds = {k: _map_frames(v, replace, memo, inline) for k, v in obj._kwds.items()}
        with alt.utils.schemapi.debug_mode(False):
            return obj.__class__(*args, **kwds)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map_frames(v, replace, memo, inline) for v in obj)
    if isinstance(obj, dict):
        return {k: _map_frames(v, replace, memo, inline) for k, v in obj.items()}
    return obj


def _placeholder(data: Any) -> str | None:
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name.startswith(_PLACEHOLDER) else None


def _references(node: Any, found: set[str], lookups: list[tuple[str, set[str] | None]]) -> None:
    """Field names `node` (a part of one view's spec, its sub-views excluded) refers to: field
    definitions, transform operands, `datum.x` / `datum['x']` in expressions. A lookup's own
    data gets its key and fields (all of its columns when it names none)."""
    if isinstance(node, str):
        found.update(m.group(1) or m.group(3) for m in _DATUM.finditer(node))
    elif isinstance(node, list):
        for item in node:
            _references(item, found, lookups)
    elif isinstance(node, dict):
        source = node.get("from")
        if "lookup" in node and isinstance(source, dict) and _placeholder(source.get("data")):
            fields = source.get("fields")
            wanted = None if not fields else {*fields, source.get("key")}
            lookups.append((_placeholder(source["data"]), wanted))
        for key, value in node.items():
            if key in ("data", "datasets", "labelExpr") or (key == "from" and "lookup" in node):
                continue
            marker = _TRANSFORM_OPERANDS.get(key)
            if key == "field" and isinstance(value, str):
                found.add(value)
            elif key in _FIELD_LISTS and isinstance(value, list):
                found.update(v for v in value if isinstance(v, str))
            elif marker and isinstance(value, str) and any(m in node for m in ((marker,) if isinstance(marker, str) else marker)):
                found.add(value)
            elif key == "repeat":
                found.update(v for part in (value.values() if isinstance(value, dict) else [value])
                             for v in (part if isinstance(part, list) else []) if isinstance(v, str))
            else:
                _references(value, found, lookups)


def _fields_by_frame(view: dict, data: str | None, inherited: frozenset[str], out: dict[str, set[str] | None]) -> None:
    """For each placeholder frame, the fields named by the views that read it."""
    data = _placeholder(view.get("data")) or data
    found: set[str] = set()
    lookups: list[tuple[str, set[str] | None]] = []
    _references({k: v for k, v in view.items() if k not in _CHILD_VIEWS}, found, lookups)
    fields = inherited | found
    for name, wanted in [(data, set(fields)), *lookups]:
        if name is None:
            continue
        if wanted is None or out.get(name, set()) is None:
            out[name] = None
        else:
            out.setdefault(name, set()).update(wanted)
    for key in _CHILD_VIEWS:
        children = view.get(key)
        for child in children if isinstance(children, list) else [children] if isinstance(children, dict) else []:
            if isinstance(child, dict):
                _fields_by_frame(child, data, fields, out)


def _column_names(fields: set[str]) -> set[str]:
    """The columns `fields` may mean: the name itself, unescaped, and the top of a nested one
    ("properties.code" reads column "properties"; "a\\.b" is column "a.b")."""
    names = set()
    for field in fields:
        names.add(field)
        names.add(re.sub(r"\\(.)", r"\1", field))
        names.add(re.sub(r"\\(.)", r"\1", re.split(r"(?<!\\)[.\[]", field)[0]))
    return names


def only_encoded_fields(chart):
    """The chart with each of its data frames reduced to the columns the chart refers to (see
    the notes above); a frame no view reads keeps its rows but no columns. The chart given is
    not changed."""
    names: dict[int, str] = {}

    def placeholder(frame: pd.DataFrame) -> alt.Data:
        names[id(frame)] = f"{_PLACEHOLDER}{len(names)}"
        return alt.Data(name=names[id(frame)])

    # Inline values (GeoJSON features: public boundaries, already reduced to their code) stay as
    # they are; in the skeleton a name stands for them, so their geometry is not serialised here.
    skeleton = _map_frames(chart, placeholder, {}, inline=lambda data: alt.Data(name="lasnaolo_inline"))
    if not names:
        return chart
    wanted: dict[str, set[str] | None] = {}
    _fields_by_frame(skeleton.to_dict(validate=False), None, frozenset(), wanted)

    return _map_frames(chart, lambda frame: _cut(frame, wanted.get(names[id(frame)], set())), {})


def _cut(frame: pd.DataFrame, fields: set[str] | None) -> pd.DataFrame:
    """The frame with only the columns `fields` refers to (all of them for None), without its index."""
    if fields is None:
        return frame.reset_index(drop=True)
    keep = _column_names(fields)
    return frame.loc[:, [c for c in frame.columns if str(c) in keep]].reset_index(drop=True)


def browser_spec(chart) -> dict:
    """The Vega-Lite spec the page sends for `chart`: each data frame cut to the columns the chart
    refers to (as `only_encoded_fields`) and given as a named dataset, which Streamlit sends as
    Arrow. Not validated against the Vega-Lite schema: Streamlit's own conversion validated every
    chart on every rerun, about 60 ms a chart and most of a warm page's time; the tests validate
    every builder's chart instead. No theme is merged in (Streamlit's own applies)."""
    frames: dict[str, pd.DataFrame] = {}

    def placeholder(frame: pd.DataFrame) -> alt.Data:
        name = f"{_PLACEHOLDER}{len(frames)}"
        frames[name] = frame
        return alt.Data(name=name)

    skeleton = _map_frames(chart, placeholder, {})  # inline values (GeoJSON boundaries) stay in the spec
    # Data Altair gathers itself (a layer without data of its own, inline records) lands in the
    # context's datasets; without top_level they would be left out of the spec (review finding).
    gathered: dict[str, Any] = {}
    spec = skeleton.to_dict(validate=False, context={"top_level": False, "datasets": gathered})
    wanted: dict[str, set[str] | None] = {}
    _fields_by_frame(spec, None, frozenset(), wanted)
    datasets: dict[str, Any] = dict(gathered)
    for name, frame in frames.items():
        datasets[name] = _cut(frame, wanted.get(name, set()))
    # Each frame named by its content, as Streamlit's own conversion names them (it keys chart
    # elements and unchanged data by the names).
    renamed = {name: f"data-{_content_hash(frame)}" for name, frame in datasets.items() if isinstance(frame, pd.DataFrame)}
    spec = _renamed_data(spec, renamed)
    return {"$schema": alt.SCHEMA_URL, **spec, "datasets": {renamed.get(k, k): v for k, v in datasets.items()}}


def _content_hash(frame: pd.DataFrame) -> str:
    """A digest of every cell, the column names and dtypes (not the index)."""
    digest = hashlib.sha256(repr((list(map(str, frame.columns)), list(map(str, frame.dtypes)))).encode("utf-8"))
    try:
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    except TypeError:  # cells pandas cannot hash (lists): their JSON text
        digest.update(frame.to_json(orient="split", index=False, default_handler=str).encode("utf-8"))
    return digest.hexdigest()[:32]


def _renamed_data(node: Any, renamed: dict[str, str]) -> Any:
    """The spec with every reference to a dataset (`{"data": {"name": …}}`) renamed."""
    if isinstance(node, dict):
        out = {k: _renamed_data(v, renamed) for k, v in node.items()}
        if isinstance(out.get("name"), str) and out["name"] in renamed and set(out) <= {"name", "format"}:
            out["name"] = renamed[out["name"]]
        return out
    if isinstance(node, list):
        return [_renamed_data(v, renamed) for v in node]
    return node


def only_what_is_shown(builder):
    """Decorates a chart builder: its chart leaves with only the columns it draws."""
    @functools.wraps(builder)
    def build(*args, **kwargs):
        return only_encoded_fields(builder(*args, **kwargs))

    build.only_encoded_fields = True
    return build

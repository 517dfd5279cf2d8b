"""The installation's optional boundary file, for the municipality choropleth."""

from __future__ import annotations

import os

import streamlit as st

from lasnaolo import geo
from lasnaolo.text import md
from lasnaolo.ui.session import t
from lasnaolo.ui.shell import secrets


def municipality_boundaries() -> dict | None:
    """None when no file is configured; a configured but unusable file is said, not hidden."""
    path = geo.configured_path(secrets(), os.environ)
    if path is None:
        return None
    try:
        return geo.load_municipality_boundaries(path)
    except geo.BoundaryError as error:
        st.warning(t("app.map_error", reason=md(error)))
        return None

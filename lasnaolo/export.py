"""Downloads: the stored data as the contract's CSV files, in one ZIP."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy.engine import Engine

from lasnaolo import contract, queries
from lasnaolo.scope import Scope


def stored_data_zip(engine: Engine, scope: Scope) -> bytes:
    """schools.csv, absences.csv, wellbeing.csv and measures.csv as stored; they re-import as is."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for kind in contract.IMPORT_ORDER:
            frame = queries.stored_rows(engine, scope, kind)
            archive.writestr(contract.FILE_SPECS[kind].file_name, frame.to_csv(index=False))
    return buffer.getvalue()

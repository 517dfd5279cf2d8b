"""Data (administrators): upload the contract's CSV files through the one importer, see every
problem located, preview the change, import on confirmation; the import log; templates and the
stored data for download."""

import streamlit as st

from lasnaolo import bootstrap, contract, export, i18n, queries
from lasnaolo.ui import data, page, upload
from lasnaolo.ui.session import t

ctx = page.start("data")
st.title(t("data.heading"))

upload.pupil_level_conversion(set(data.schools(ctx.scope)["school_id"]))
upload.upload_flow(ctx.engine, ctx.account.username)

st.subheader(t("data.templates"))
st.caption(t("data.templates_help"))
for column, (kind, spec) in zip(st.columns(len(contract.FILE_SPECS)), contract.FILE_SPECS.items()):
    column.download_button(spec.file_name, contract.template(kind), file_name=spec.file_name, mime="text/csv",
                           key=f"template_{kind}")
st.download_button(t("data.download_current"), lambda: export.stored_data_zip(ctx.engine, ctx.scope),
                   file_name="lasnaolo-data.zip", mime="application/zip")

st.subheader(t("data.log"))
log = queries.import_log(ctx.engine, ctx.scope)
log["imported_at"] = log["imported_at"].map(lambda moment: i18n.timestamp(moment, ctx.language))
log["file_kind"] = log["file_kind"].map(lambda kind: t(f"data.kind.{kind}") if kind in contract.FILE_SPECS else kind)
log["imported_by"] = log["imported_by"].replace({bootstrap.DEMO_IMPORTER: t("data.by_demo")})
st.dataframe(export.display_frame(log, ctx.language).rename(columns={"imported_at": t("data.col.when"), "imported_by": t("data.col.by"),
                                 "file_name": t("data.col.file"), "file_kind": t("data.col.kind"),
                                 "rows_in_file": t("data.col.rows"), "rows_inserted": t("data.col.new"),
                                 "rows_replaced": t("data.col.replaced"), "rows_unchanged": t("data.col.unchanged"),
                                 "sha256": t("data.col.checksum")}),
             hide_index=True, width="stretch")

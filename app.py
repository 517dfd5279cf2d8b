"""Läsnäolo: the router. Sign in, resolve the role and scope, and route only the pages the role
may open (`streamlit run app.py`)."""

import streamlit as st

from lasnaolo.ui import shell

st.set_page_config(page_title="Läsnäolo", page_icon=":material/school:", layout="wide")

shell.app_style()
shell.language_selector()
config = shell.auth_config()
auth = shell.authenticator(config)
shell.sign_out_if_asked(auth)
shell.demo_banner(config)
account = shell.sign_in(auth, config)

if account is None:
    shell.login_navigation().run()
else:
    shell.freeze_long_lived()  # once, before the first signed-in page
    shell.sidebar(account)
    shell.navigation(account).run()
    shell.freeze_newly_imported()  # after a page that computed with a library imported just now

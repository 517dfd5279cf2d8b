"""Läsnäolo: the router. Sign in, resolve the role and scope, and route only the pages the role
may open (`streamlit run app.py`)."""

import streamlit as st

from lasnaolo.ui import shell

st.set_page_config(page_title="Läsnäolo", page_icon=":material/school:", layout="wide")

shell.language_selector()
config = shell.auth_config()
auth = shell.authenticator(config)
account = shell.signed_in_account(config, auth)
shell.demo_banner(config)

if account is None:
    shell.login_navigation(auth, config).run()
else:
    shell.sidebar(account, auth)
    shell.navigation(account).run()

"""The Streamlit shell: the only package that imports streamlit. Pages call these helpers and the
core (`lasnaolo.*`); nothing here computes a figure."""

"""Data as text on screen: a value from the database or an upload, escaped so that Streamlit's
markdown (st.markdown, titles, captions, alerts, widget labels) shows it literally.

Streamlit renders every text element and label as markdown: CommonMark and GitHub tables, raw HTML
(escaped, but still parsed), `$` LaTeX, and its own extensions: `:red[...]` colours, `:material/x:`
icons and `:smile:` emoji shortcodes. A school named `![t](http://host/t.png)` would otherwise be
fetched by every reader's browser. Escape the VALUE, never the catalogue text around it:
`t("scope.school", name=md(name))`.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character may be backslash-escaped in CommonMark, and an escaped one is
# always literal; escaping all of them covers markdown, GFM (tables, strikethrough, autolinks),
# HTML (<, >, &), LaTeX ($) and Streamlit's directives (:, [, ]).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Some transforms work on the text after escapes are resolved (GFM's bare links, and shortcodes in
# some Streamlit versions), so an escaped colon alone is not enough: a word joiner (U+2060,
# invisible, no width) after each colon breaks "http://" and any ":shortcode:".
_COLON = "\\:\u2060"
# Line breaks would start new blocks (headings, lists, code); inside one value they become spaces.
_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
# GFM links bare addresses after escapes are resolved too ("http://", "www.", "user@host"): the word
# joiner after every colon breaks "http://", and one goes after "www" and after "@".
_WWW = re.compile(r"(?i)\b(www)(?=\\\.)")


def md(value: object) -> str:
    """`value` as text that every markdown-rendering Streamlit element shows exactly as written
    (line breaks as spaces); None as an empty string."""
    if value is None:
        return ""
    text = _BREAKS.sub(" ", str(value))
    text = _PUNCTUATION.sub(r"\\\1", text)
    text = _WWW.sub("\\1\u2060", text)
    text = text.replace("\\:", _COLON).replace("\\@", "\\@\u2060")
    # Leading spaces would make an indented code block; a lone value never needs them.
    return text.strip(" \t")


def unescaped(markdown: str) -> str:
    """The text a reader sees of `md(...)` output (for tests that read Streamlit's markdown source)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def plain(value: object) -> str:
    """The text `md(value)` shows on screen (what a reader sees, for tests and comparisons)."""
    if value is None:
        return ""
    return _BREAKS.sub(" ", str(value)).strip(" \t")

"""Data as text on screen: `text.md` escapes a value so that Streamlit's markdown shows it literally
(the browser test `test_browser_escaping.py` checks the rendering in Chromium)."""

from __future__ import annotations

import re

import pytest

from lasnaolo import text

PAYLOADS = [
    "![t](http://127.0.0.1:9/track.png)", "**bold** <img src=x>", ":red[x]", ":smile: :material/home:", "$x^2$",
    "# heading", "- item", "1. one", "a | b", "~~s~~", "`code`", "[l](http://x)", "www.example.com", "a@b.fi",
    "<b>html</b> &amp;", "_i_ *j*", "> quote", "x\\*y\\", "Mänttä-Vilppula (091)", "Koulu & co; 100% #1!",
]
PUNCTUATION = r"!-/:-@\[-`{-~"


@pytest.mark.parametrize("value", PAYLOADS)
def test_every_ascii_punctuation_character_of_a_value_is_backslash_escaped(value):
    escaped = text.md(value)
    # Read left to right: every punctuation character is the second half of a backslash escape.
    assert re.fullmatch(rf"(?:\\[{PUNCTUATION}]|[^{PUNCTUATION}\\])*", escaped), escaped
    assert escaped.replace("\u2060", "").replace("\\", "") == value.replace("\\", "")


@pytest.mark.parametrize("value", [":smile:", "http://x", "a:b:c", "www.x.fi", "a@b.fi"])
def test_colons_www_and_at_signs_are_followed_by_an_invisible_word_joiner_so_no_shortcode_or_bare_link_forms(value):
    escaped = text.md(value)
    assert not re.search(r":[A-Za-z/]", escaped.replace("\\", ""))
    assert "www\\." not in escaped and "@b" not in escaped


def test_line_breaks_become_spaces_and_leading_spaces_go():
    assert text.md("line1\r\nline2\nline3") == "line1 line2 line3"
    assert text.md("    indented") == "indented"
    assert text.plain("    a\nb") == "a b"


def test_none_and_numbers_become_text():
    assert text.md(None) == "" and text.md(12) == "12" and text.md(1.5) == "1\\.5"


@pytest.mark.parametrize("value", PAYLOADS)
def test_unescaped_gives_back_the_value_md_escaped(value):
    assert text.unescaped(text.md(value)) == value

"""Escaping of packet-derived text for terminals and field cells."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from analyzer.textsafe import escape_field, escape_label, escape_lines, is_safe


def test_label_escapes_like_tshark_format_text() -> None:
    assert escape_label("a\\b\x1b[1m\x00\x07\x08\t\n\x0b\x0c\r\x7f\x85\x9f\xa0é") == (
        "a\\b\\033[1m\\000\\a\\b\\t\\n\\v\\f\\r\\177\\u0085\\u009f\xa0é"
    )


def test_field_cells_keep_tsharks_three_escapes_and_hex_the_rest() -> None:
    assert escape_field("a\tb\r\n\x1b\x00\x7f\x85\\") == "a\\tb\\r\\n\\x1b\\x00\\x7f\\x85\\"


def test_bidi_overrides_are_shown_not_obeyed() -> None:
    assert escape_label("abc\u202edef\u2066") == "abc\\u202edef\\u2066"
    assert escape_field("\u202e") == "\\u202e"


def test_lines_keep_their_line_feeds() -> None:
    assert escape_lines("one\x1b[2J\ntwo\r\n") == "one\\033[2J\ntwo\\r\n"


@given(st.text())
def test_escaped_text_is_safe_and_escaping_twice_changes_nothing(text: str) -> None:
    for escape in (escape_label, escape_field, escape_lines):
        once = escape(text)
        assert is_safe(once.replace("\n", ""))
        assert escape(once) == once

"""What people type: search text folded and cleaned, and LIKE patterns that take it literally."""

from __future__ import annotations

from bot.arguments import clean_query, fold, like_pattern, slash_text, unescape_slack


def test_fold_ignores_letter_case_and_extra_spaces():
    assert fold("  Contoso   LTD \t") == "contoso ltd"
    assert fold("Straße") == "strasse"
    assert fold("") == ""


def test_clean_query_drops_invisible_and_control_characters():
    # NUL and a zero-width space inside a word vanish; spaces collapse.
    assert clean_query("con\x00toso\u200b   Ltd ") == "contoso Ltd"
    assert clean_query("\x00\u200b") == ""


def test_clean_query_keeps_tabs_and_line_breaks_as_spaces_between_words():
    # A tab or a line break between two words separates them like a space would.
    assert clean_query("Fabrikam\tDental") == "Fabrikam Dental"
    assert clean_query("Fabrikam\nDental") == "Fabrikam Dental"
    assert clean_query("Fabrikam\u00a0Dental") == "Fabrikam Dental"


def test_like_pattern_finds_text_anywhere():
    assert like_pattern("contoso") == "%contoso%"


def test_like_pattern_takes_percent_underscore_and_backslash_literally():
    # Each wildcard gets one backslash before it; a backslash itself is doubled.
    assert like_pattern("50%") == "%50\\%%"
    assert like_pattern("a_b") == "%a\\_b%"
    assert like_pattern("a\\b") == "%a\\\\b%"
    # The backslash added before % must not be doubled again.
    assert like_pattern("\\%_") == "%\\\\\\%\\_%"


def test_slash_text_is_read_as_typed_from_slacks_three_entities():
    # Slack sends `O'Brien & Sons <HQ>` as `O'Brien &amp; Sons &lt;HQ&gt;`.
    assert slash_text("O'Brien &amp; Sons &lt;HQ&gt;") == "O'Brien & Sons <HQ>"
    # A typed `&lt;` arrives as `&amp;lt;` and stays `&lt;`; other entities are not Slack's.
    assert unescape_slack("&amp;lt; &amp;amp;") == "&lt; &amp;"
    assert unescape_slack("&quot;Q&quot; &#60; &nbsp;") == "&quot;Q&quot; &#60; &nbsp;"
    # Slack's own sequences (a mention, with should_escape) come through as they are.
    assert slash_text("managers add <@U123|jane>") == "managers add <@U123|jane>"
    assert slash_text(None) == ""

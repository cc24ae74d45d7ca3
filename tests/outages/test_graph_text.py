"""Microsoft's HTML posts as text a partner can read and send on."""

from __future__ import annotations

from bot.outages.graph_text import readable

# Shaped like Microsoft's posts: paragraphs, a list with a nested list and a link, entities, and
# the stray backslash line continuations the CLI for Microsoft 365 documentation shows.
POST = (
    "<p>Title: Users can&#39;t send mail &amp; see delays</p> \\\n"
    "<p>User impact: Users may be unable to send &lt;large&gt; attachments.</p> \\\n"
    '<ul> \\\n<li>More: <a href="https://admin.microsoft.com/?ref=EX1&amp;x=1">EX1</a></li>'
    "<li>Timing:<ul><li>Start: 09:00</li></ul></li></ul>"
    "<p>Next update by:<br>Monday, 10:00 UTC</p><script>alert(1)</script>"
)


def test_html_posts_become_paragraphs_lists_and_links():
    assert readable(POST) == (
        "Title: Users can't send mail & see delays\n\n"
        "User impact: Users may be unable to send <large> attachments.\n\n"
        "- More: EX1 (https://admin.microsoft.com/?ref=EX1&x=1)\n"
        "- Timing:\n"
        "  - Start: 09:00\n\n"
        "Next update by:\nMonday, 10:00 UTC"
    )


def test_text_posts_lose_only_the_stray_continuations():
    published = "Title: Installation delays\\\n\nUser Impact: Users may see <delays>.\\\n"
    expected = "Title: Installation delays\n\nUser Impact: Users may see <delays>."
    assert readable(published, "Text") == expected


def test_a_link_whose_text_is_its_address_is_said_once():
    assert (
        readable('<a href="https://x.example/a">https://x.example/a</a>') == "https://x.example/a"
    )
    assert readable('<a href="javascript:alert(1)">click</a>') == "click"

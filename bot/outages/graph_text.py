"""Microsoft's service health posts (HTML, `contentType: html`) as readable plain text: paragraphs,
lists as "- item", links as "text (url)", entities decoded, stray `\\` line continuations gone."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Tags that end a line or a paragraph in what a person reads.
PARAGRAPHS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre"}
LINES = {"br", "tr", "hr"}
LISTS = {"ul", "ol"}
SKIPPED = {"script", "style", "head", "title"}
# Microsoft ends many lines of its posts with a literal backslash (a Markdown line break that
# leaked into the text); it means nothing to a reader.
CONTINUATION = re.compile(r"[ \t]*\\+[ \t]*(?=\n|$)")
SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
BLANK_LINES = re.compile(r"\n{3,}")


class ReadableText(HTMLParser):
    """Collects the text of an HTML fragment with the breaks a reader expects."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.depth = 0  # of nested lists
        self.skipping = 0
        self.links: list[tuple[str, int]] = []  # (href, where its text starts in parts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
        elif tag in PARAGRAPHS:
            self.parts.append("\n\n")
        elif tag in LINES:
            self.parts.append("\n")
        elif tag in LISTS:
            self.depth += 1
        elif tag == "li":
            self.parts.append("\n" + "  " * max(self.depth - 1, 0) + "- ")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in PARAGRAPHS:
            self.parts.append("\n\n")
        elif tag in LISTS:
            self.depth = max(self.depth - 1, 0)
            self.parts.append("\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.parts[start:]).strip()
            if href.startswith(("http://", "https://", "mailto:")) and href != label:
                self.parts.append(f" ({href})" if label else href)

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)

    def text(self) -> str:
        return "".join(self.parts)


def readable(content: str, content_type: str = "html") -> str:
    """A post's content as plain text; HTML unless the post says it is text."""
    if content_type.strip().lower() == "text":
        text = content
    else:
        parser = ReadableText()
        parser.feed(content)
        parser.close()
        text = parser.text()
    return tidy(text)


def tidy(text: str) -> str:
    """Drops the stray continuations, runs of spaces and of blank lines, and edge whitespace."""
    text = CONTINUATION.sub("", text.replace("\r\n", "\n"))
    lines = [SPACES.sub(" ", line).strip() for line in text.split("\n")]
    # A list item keeps its indentation (two spaces per nesting level).
    kept = []
    for raw, line in zip(text.split("\n"), lines, strict=True):
        indent = len(raw) - len(raw.lstrip(" ")) if line.startswith("- ") else 0
        kept.append(" " * indent + line)
    return BLANK_LINES.sub("\n\n", "\n".join(kept)).strip()

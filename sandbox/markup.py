"""Markup helpers: what a user sees of a text once Telegram has parsed its parse_mode."""

from __future__ import annotations

import html
import re
from typing import Final

HTML_TAG_RE: Final = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>")
_MARKDOWN_LINK_RE: Final = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def visible_text(text: str, parse_mode: str | None) -> str:
    """Return the text a user sees once Telegram has parsed the markup (approximate)."""
    if parse_mode == "HTML":
        return html.unescape(HTML_TAG_RE.sub("", text))
    if parse_mode == "MarkdownV2":
        text = _MARKDOWN_LINK_RE.sub(r"\1", text)
        out: list[str] = []
        index = 0
        while index < len(text):
            char = text[index]
            if char == "\\" and index + 1 < len(text):
                out.append(text[index + 1])
                index += 2
                continue
            if char not in "*_~|`":
                out.append(char)
            index += 1
        return "".join(out)
    if parse_mode == "Markdown":
        return re.sub(r"[*_`]", "", _MARKDOWN_LINK_RE.sub(r"\1", text))
    return text

"""Cleaning answers the LIMA way: strip links, images and HTML; keep code blocks and lists.

LIMA (Zhou et al. 2023, sec. 2.1): "we ... remove links, images, and other HTML tags, retaining only code blocks
and lists". Code (fenced ``` blocks, inline `code`, <pre>/<code> elements) is protected first and put back
untouched, so a `<div>` inside a code sample survives; list markers are plain text and are never touched.
"""

from __future__ import annotations

import html
import re

__all__ = ["clean_text"]

_FENCE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", re.S)
_INLINE = re.compile(r"`[^`\n]+`")
_PRE = re.compile(r"<pre\b[^>]*>(.*?)</pre>", re.S | re.I)
_CODE = re.compile(r"<code\b[^>]*>(.*?)</code>", re.S | re.I)
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_REF_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.M)
_HTML_IMG = re.compile(r"<img\b[^>]*>", re.I)
_HTML_BR = re.compile(r"<br\s*/?>|</p>|</div>", re.I)
_HTML_LI = re.compile(r"<li\b[^>]*>", re.I)
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_URL = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>()\"']+", re.I)
_SPACES = re.compile(r"[ \t]+\n")
_BLANKS = re.compile(r"\n{3,}")
_PLACEHOLDER = "\x00CODE{}\x00"


def clean_text(text: str) -> str:
    """Return ``text`` with links, images and HTML removed and code blocks and lists kept.

    Markdown links keep their text (``[docs](http://x)`` -> ``docs``); images and bare URLs are removed;
    HTML tags are dropped (their text kept), ``<li>`` becomes a ``- `` list item, ``<br>``/``</p>`` a newline,
    and entities are unescaped. Code is never changed.
    """
    if not text:
        return ""
    saved: list[str] = []

    def protect(match: re.Match, body: str | None = None) -> str:
        saved.append(match.group(0) if body is None else body)
        return _PLACEHOLDER.format(len(saved) - 1)

    out = _FENCE.sub(protect, text)
    out = _PRE.sub(
        lambda m: protect(m, "```\n" + html.unescape(_strip_tags(m.group(1))) + "\n```"), out
    )
    out = _CODE.sub(lambda m: protect(m, "`" + html.unescape(m.group(1)) + "`"), out)
    out = _INLINE.sub(protect, out)
    out = _HTML_COMMENT.sub("", out)
    out = _MD_IMAGE.sub("", out)
    out = _HTML_IMG.sub("", out)
    out = _MD_LINK.sub(r"\1", out)
    out = _MD_REF_DEF.sub("", out)
    out = _HTML_LI.sub("\n- ", out)
    out = _HTML_BR.sub("\n", out)
    out = _strip_tags(out)
    out = _URL.sub("", out)
    out = html.unescape(out)
    out = _SPACES.sub("\n", out)
    out = _BLANKS.sub("\n\n", out).strip()
    for i, code in enumerate(saved):
        out = out.replace(_PLACEHOLDER.format(i), code)
    return out


def _strip_tags(text: str) -> str:
    return _HTML_TAG.sub("", text)

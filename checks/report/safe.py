"""Claim text made safe for where it is shown.

Claim files come from other systems and may carry anything: terminal escape sequences, the
right-to-left override (which makes a line read backwards), NUL. On a terminal, in GitHub
annotations and in XML, every control character and bidirectional formatting character is shown
as a visible escape (`\\x1b`, `\\u202e`), never passed through; XML additionally never receives a
character XML 1.0 forbids.
"""
from __future__ import annotations

import re

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_TERMINAL = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_XML = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff\ufffe\uffff]")


def _escape(m: re.Match) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def terminal(value) -> str:
    """One line of text for a terminal: no control, no bidi formatting, no line break."""
    return _TERMINAL.sub(_escape, "" if value is None else str(value))


def xml(value) -> str:
    """Text an XML 1.0 document may hold (tabs and line breaks kept)."""
    return _XML.sub(_escape, "" if value is None else str(value))

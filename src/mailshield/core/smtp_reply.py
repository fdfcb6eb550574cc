"""SMTP replies and the EHLO keyword list, from bytes, without I/O.

Bytes go in (:meth:`ReplyReader.feed`), whole replies come out (:meth:`ReplyReader.next_reply`);
the caller owns the socket. A hostile server can only make the reader return a
:class:`ReplyError`: lines and replies are bounded, and nothing here raises on any input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets including CRLF. Real servers exceed it
# now and then (long banners), so the default bound is generous but still finite.
MAX_LINE_LENGTH = 2048
MAX_REPLY_LINES = 100


@dataclass(frozen=True, slots=True)
class SmtpReply:
    """One complete (possibly multi-line) reply: its code and the text of each line."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def is_positive(self) -> bool:
        return 200 <= self.code < 300

    @property
    def is_transient(self) -> bool:
        return 400 <= self.code < 500

    def __str__(self) -> str:
        return f"{self.code} {self.text}".rstrip()


@dataclass(frozen=True, slots=True)
class ReplyError:
    """The server broke the reply syntax or a bound; the conversation cannot go on."""

    reason: str


# RFC 5321 §4.2:
#   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
#                Reply-code [ SP textstring ] CRLF
#   Reply-code = %x32-35 %x30-35 %x30-39
# The second digit is read as any digit, and a bare LF ends a line too (lenient, as senders are).
_REPLY_LINE = re.compile(rb"([2-5][0-9][0-9])(?:([ -])(.*))?", re.DOTALL)


class ReplyReader:
    """Splits a byte stream from an SMTP server into replies, enforcing line and count bounds."""

    def __init__(
        self, *, max_line_length: int = MAX_LINE_LENGTH, max_lines: int = MAX_REPLY_LINES
    ) -> None:
        self._buffer = bytearray()
        self._lines: list[str] = []
        self._code: int | None = None
        self._error: ReplyError | None = None
        self._max_line = max_line_length
        self._max_lines = max_lines

    def feed(self, data: bytes) -> None:
        """Add bytes received from the server."""
        if self._error is None:
            self._buffer += data

    def discard_buffered(self) -> bytes:
        """Drop and return unread bytes (RFC 3207 §4.2: nothing read before TLS carries over)."""
        pending = bytes(self._buffer)
        self._buffer.clear()
        return pending

    def next_reply(self) -> SmtpReply | ReplyError | None:
        """The next complete reply, an error (sticky), or ``None`` when more bytes are needed."""
        while self._error is None:
            line = self._next_line()
            if line is None:
                return self._error
            reply = self._add_line(line)
            if reply is not None:
                return reply
        return self._error

    def _next_line(self) -> bytes | None:
        end = self._buffer.find(b"\n", 0, self._max_line)
        if end < 0:
            if len(self._buffer) >= self._max_line:
                self._error = ReplyError(f"reply line longer than {self._max_line} bytes")
            return None
        line = bytes(self._buffer[:end]).removesuffix(b"\r")
        del self._buffer[: end + 1]
        return line

    def _add_line(self, line: bytes) -> SmtpReply | None:
        match = _REPLY_LINE.fullmatch(line)
        if match is None:
            self._error = ReplyError(f"malformed reply line: {_show(line)}")
            return None
        code = int(match.group(1))
        if self._code is not None and code != self._code:
            # RFC 5321 §4.2.1: every line of a multiline reply carries the same code.
            self._error = ReplyError(f"reply code changed from {self._code} to {code}")
            return None
        self._code = code
        self._lines.append(_decode(match.group(3) or b""))
        if match.group(2) == b"-":
            if len(self._lines) >= self._max_lines:
                self._error = ReplyError(f"reply longer than {self._max_lines} lines")
            return None
        reply = SmtpReply(code, tuple(self._lines))
        self._lines, self._code = [], None
        return reply


def render_reply(code: int, lines: Sequence[str]) -> bytes:
    """The wire form of a reply: ``code-text`` continuation lines, then ``code text``."""
    texts = list(lines) or [""]
    rendered = [f"{code}-{text}" for text in texts[:-1]] + [f"{code} {texts[-1]}".rstrip()]
    return "".join(f"{line}\r\n" for line in rendered).encode("utf-8")


@dataclass(frozen=True, slots=True)
class EhloReply:
    """What an EHLO reply says: the server's name and its extension keywords (upper-case)."""

    domain: str
    keywords: tuple[str, ...]
    params: tuple[tuple[str, tuple[str, ...]], ...]  # (keyword, parameters), in reply order
    malformed: tuple[str, ...]  # lines that are not an ehlo-line (ignored, as senders do)

    def offers(self, keyword: str) -> bool:
        return keyword.upper() in self.keywords


# RFC 5321 §4.1.1.1:
#   ehlo-ok-rsp  = ( "250" SP Domain [ SP ehlo-greet ] CRLF )
#                / ( "250-" Domain [ SP ehlo-greet ] CRLF
#                    *( "250-" ehlo-line CRLF )
#                    "250" SP ehlo-line CRLF )
#   ehlo-line    = ehlo-keyword *( SP ehlo-param )
#   ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
#   ehlo-param   = 1*(%d33-126)
_EHLO_KEYWORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_EHLO_PARAM = re.compile(r"[\x21-\x7e]+")


def parse_ehlo(reply: SmtpReply) -> EhloReply:
    """The extensions a 250 EHLO reply announces; any other reply announces none."""
    if reply.code != 250 or not reply.lines:
        return EhloReply("", (), (), ())
    first = reply.lines[0].split()
    keywords: list[str] = []
    params: list[tuple[str, tuple[str, ...]]] = []
    malformed: list[str] = []
    for line in reply.lines[1:]:
        parsed = _ehlo_line(line)
        if parsed is None:
            malformed.append(line)
            continue
        params.append(parsed)
        if parsed[0] not in keywords:
            keywords.append(parsed[0])
    return EhloReply(first[0] if first else "", tuple(keywords), tuple(params), tuple(malformed))


def _ehlo_line(line: str) -> tuple[str, tuple[str, ...]] | None:
    keyword, *rest = line.split(" ") if line else [""]
    if not _EHLO_KEYWORD.fullmatch(keyword):
        return None
    words = tuple(word for word in rest if word)
    if not all(_EHLO_PARAM.fullmatch(word) for word in words):
        return None
    return keyword.upper(), words


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _show(raw: bytes) -> str:
    return repr(raw[:80])

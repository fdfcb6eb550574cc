"""Domain names on the wire and as text: reading with decompression, writing from text.

RFC 1035 §3.1: a name is a sequence of labels, each a length octet (1-63) and that many octets,
ending with the zero-length root label; at most 255 octets in all (§2.3.4). RFC 1035 §4.1.4: two
octets starting with two one-bits are a pointer to where the rest of the name is. A pointer
must point before the part of the name that holds it, and what it points to must end before
that part starts, so every pointer goes strictly backwards and a name is read in bounded steps
(at most 16 pointers); this is the rule dnspython applies, so both accept the same names.

Text is the presentation form (RFC 1035 §5.1) in lower case without the final dot (``""`` for
the root), escaped as dnspython's ``Name.to_text`` escapes: ``\\DDD`` for octets outside
``!``..``~``, a backslash before ``"().;\\@$``. Names compare case-insensitively (RFC 4343 §3),
which on this text is plain string equality.
"""

from __future__ import annotations

from mailshield.core.dns_wire_codes import WireError

__all__ = ["name_from_text", "name_text", "read_name"]

MAX_NAME_OCTETS = 255  # RFC 1035 §2.3.4
MAX_LABEL_OCTETS = 63
MAX_POINTERS = 16

_SPECIAL = b'"().;\\@$'
_PLAIN = bytes(c for c in range(0x21, 0x7F) if c not in _SPECIAL)
_PLAIN_OR_DOT = _PLAIN + b"."
_ESCAPED = tuple(
    "\\" + chr(c) if c in _SPECIAL else chr(c) if 0x20 < c < 0x7F else f"\\{c:03d}"
    for c in range(256)
)


NameCache = dict[int, tuple[str, int, int, int]]
"""Names already read in one message, by offset: text, end of the first part, pointers, octets."""


def read_name(data: bytes, pos: int, end: int, cache: NameCache | None = None) -> tuple[str, int]:
    """The name at ``pos`` as text, and the offset just after it in the record being read.

    ``end`` bounds the first part of the name (the end of the message, or of the rdata holding
    it); compression pointers are followed within ``data``. With ``cache`` (one per message), a
    pointer to a name read before reuses it when the same reading would be valid there.
    """
    origin, labels, after, suffix = pos, list[bytes](), -1, None
    start = earliest = pos
    pointers, octets = 0, 1
    while True:
        if pos >= end:
            raise WireError("name runs past the end of its data")
        length = data[pos]
        if length == 0:
            break
        if length < 0x40:
            stop = pos + 1 + length
            octets += length + 1
            if stop > end or octets > MAX_NAME_OCTETS:
                raise WireError("name runs past its data or over 255 octets")
            labels.append(data[pos + 1 : stop])
            pos = stop
        elif length >= 0xC0:
            if pos + 1 >= end:
                raise WireError("compression pointer cut short")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            pointers += 1
            if target >= earliest or pointers > MAX_POINTERS:
                raise WireError("compression pointer does not point backwards")
            if after < 0:
                after = pos + 2
            known = cache.get(target) if cache is not None else None
            if known is not None and _fits(known, start, pointers, octets):
                suffix, _, more_pointers, more_octets = known
                pointers, octets = pointers + more_pointers, octets + more_octets - 1
                break
            earliest, end = target, start
            pos = start = target
        else:
            raise WireError(f"unknown label type 0x{length:02x}")
    text = _joined(name_text(labels), suffix)
    after = after if after >= 0 else pos + 1
    if cache is not None:
        cache[origin] = (text, after, pointers, octets)
    return text, after


def _fits(known: tuple[str, int, int, int], end: int, pointers: int, octets: int) -> bool:
    """Whether a name read before at a pointer's target reads the same from this pointer: its
    first part ends before ``end`` and the limits still hold."""
    _, stop, more_pointers, more_octets = known
    return (
        stop <= end
        and pointers + more_pointers <= MAX_POINTERS
        and octets + more_octets - 1 <= MAX_NAME_OCTETS
    )


def _joined(prefix: str, suffix: str | None) -> str:
    if not suffix:
        return prefix
    return f"{prefix}.{suffix}" if prefix else suffix


def name_text(labels: list[bytes]) -> str:
    """The lower-case presentation text of a name given as its labels (the root label left out)."""
    if not labels:
        return ""
    joined = b".".join(labels).lower()
    if not joined.translate(None, _PLAIN_OR_DOT) and joined.count(b".") == len(labels) - 1:
        return joined.decode("ascii")
    return ".".join("".join([_ESCAPED[c] for c in label.lower()]) for label in labels)


def name_from_text(text: str) -> bytes:
    """The wire form of an ASCII presentation name, absolute whether or not it ends in a dot.

    Follows dnspython's ``dns.name.from_text`` for ASCII text: ``\\X`` stands for the octet X
    and ``\\DDD`` for a decimal octet; ``""``, ``"@"`` and ``"."`` are the root. Raises
    :class:`WireError` with dnspython's message for an empty label, a label over 63 octets,
    a name over 255 octets or a bad escape. Non-ASCII text must be converted (IDNA) by the
    caller.
    """
    if not text.isascii():
        raise WireError("name text must be ASCII (convert it with IDNA first)")
    if text in ("", "@", "."):
        return b"\x00"
    if "\\" in text:
        labels = _unescaped_labels(text.encode("ascii"))
    else:
        labels = [part.encode("ascii") for part in text.split(".")]
        if not all(labels[:-1]):
            raise WireError("A DNS label is empty.")
    if labels[-1]:
        labels.append(b"")  # relative: the root is the origin
    return _wire(labels)


def _unescaped_labels(text: bytes) -> list[bytes]:
    """Labels of presentation text with escapes, the last one empty when the text ended in a dot."""
    labels: list[bytes] = []
    label = bytearray()
    pos, size = 0, len(text)
    while pos < size:
        char = text[pos]
        pos += 1
        if char == 0x5C:  # backslash
            octet, pos = _escape(text, pos)
            label.append(octet)
        elif char == 0x2E:  # dot
            if not label:
                raise WireError("A DNS label is empty.")
            labels.append(bytes(label))
            label = bytearray()
        else:
            label.append(char)
    labels.append(bytes(label))
    return labels


def _escape(text: bytes, pos: int) -> tuple[int, int]:
    """The octet an escape stands for (``pos`` is just after the backslash) and where it ends."""
    bad = "An escaped code in a text format of DNS name is invalid."
    if pos >= len(text):
        raise WireError(bad)
    if not 0x30 <= text[pos] <= 0x39:
        return text[pos], pos + 1
    digits = text[pos : pos + 3]
    if len(digits) < 3 or not digits.isdigit() or int(digits) > 255:
        raise WireError(bad)
    return int(digits), pos + 3


def _wire(labels: list[bytes]) -> bytes:
    """Length-prefixed labels, checked as dnspython's ``Name`` checks them."""
    if any(len(label) > MAX_LABEL_OCTETS for label in labels):
        raise WireError("A DNS label is > 63 octets long.")
    if sum(len(label) + 1 for label in labels) > MAX_NAME_OCTETS:
        raise WireError("A DNS name is > 255 octets long.")
    return b"".join(bytes((len(label),)) + label for label in labels)

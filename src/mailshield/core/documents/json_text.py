"""Loading untrusted JSON text under I-JSON rules (RFC 7493), with a nesting-depth cap.

``load_json`` never raises: it returns the value plus what it had to tolerate (duplicate member
names, unpaired surrogate escapes), or a :class:`JsonProblem` with a stable reason
(``bad_json`` or ``too_deep``). Parsing is the C ``json`` scanner; the depth check and the
surrogate repair run at C speed too and only pay off on hostile input.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["JsonProblem", "LoadedJson", "exceeds_depth", "load_json"]


@dataclass(frozen=True, slots=True)
class JsonProblem:
    """The text is not acceptable JSON: ``reason`` is ``bad_json`` or ``too_deep``."""

    reason: str
    detail: str


@dataclass(slots=True)
class LoadedJson:
    """A parsed value and the I-JSON deviations tolerated while reading it.

    ``duplicate_keys`` lists the member names that appeared twice in one object (the first value
    was kept, RFC 7493 §2.3); ``lone_surrogates`` counts strings that held an unpaired surrogate
    escape and were repaired (RFC 7493 §2.1).
    """

    value: Any
    duplicate_keys: list[str] = field(default_factory=list)
    lone_surrogates: int = 0


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# Keep only quotes and brackets (folded to one kind: the text is known valid, so they match).
_SKELETON = bytes.maketrans(b"{}", b"[]")
_NOT_SKELETON = bytes(b for b in range(256) if b not in b'"[]{}')


def load_json(text: str, max_depth: int) -> LoadedJson | JsonProblem:
    """Parse ``text`` (RFC 8259); refuse NaN/Infinity and nesting deeper than ``max_depth``.

    Text without repeated member names (nearly all) is read once by a shared decoder; an
    object that repeats a name stops it, and the text is read again noting every repeat.
    """
    try:
        try:
            loaded = LoadedJson(_decode_unique(text))
        except _RepeatedName:
            loaded = _load_noting_repeats(text)
    except RecursionError:
        return JsonProblem("too_deep", "JSON nesting exceeds what the parser can follow")
    except ValueError as exc:  # JSONDecodeError, over-long integers, NaN/Infinity
        return JsonProblem("bad_json", f"not valid JSON: {exc}")
    if exceeds_depth(text, max_depth):
        return JsonProblem("too_deep", f"JSON nesting is deeper than {max_depth} levels")
    if _SURROGATE_ESCAPE.search(text):
        loaded.value, loaded.lone_surrogates = _repair_surrogates(loaded.value)
    return loaded


class _RepeatedName(Exception):
    """An object repeats a member name (raised through the decoder; not a ``ValueError``)."""


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _RepeatedName
    return obj


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# Built once (``json.loads`` with hooks builds a decoder per call); it holds no state between
# calls, so threads may share it.
_UNIQUE_DECODER = json.JSONDecoder(object_pairs_hook=_unique_pairs, parse_constant=_refuse_constant)


def _decode_unique(text: str) -> Any:
    """``json.loads(text)`` with the shared decoder; raises :class:`_RepeatedName`."""
    if text.startswith("\ufeff"):  # as json.loads refuses it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _UNIQUE_DECODER.decode(text)


def _load_noting_repeats(text: str) -> LoadedJson:
    """The value of ``text``, keeping the first of each repeated name (RFC 7493 §2.3), and the
    names repeated."""
    loaded = LoadedJson(None)

    def first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            obj = {}
            for key, value in pairs:
                if key in obj:
                    loaded.duplicate_keys.append(key)
                else:
                    obj[key] = value
        return obj

    loaded.value = json.loads(text, object_pairs_hook=first_wins, parse_constant=_refuse_constant)
    return loaded


def exceeds_depth(text: str, cap: int) -> bool:
    """Whether arrays and objects in valid JSON ``text`` nest more than ``cap`` levels deep.

    Runs on the UTF-8 bytes with C-speed operations only: escaped backslashes and quotes are
    dropped, everything but quotes and brackets deleted, string contents cut out, then each
    pass peels off the innermost ``[]`` pairs, one level per pass (``bytes.replace`` does not
    cascade within a pass).
    """
    if text.count("{") + text.count("[") <= cap:
        return False
    raw = text.encode("utf-8", "surrogatepass")
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Dropping two adjacent quotes keeps every bracket's in-string parity, so empty strings
    # (nearly all of them) go in one pass; only brackets inside strings need the split.
    skeleton = raw.translate(_SKELETON, _NOT_SKELETON).replace(b'""', b"")
    if b'"' in skeleton:
        skeleton = b"".join(skeleton.split(b'"')[::2])
    for _ in range(cap):
        if not skeleton:
            break
        skeleton = skeleton.replace(b"[]", b"")
    return bool(skeleton)


def _repair_surrogates(value: Any) -> tuple[Any, int]:
    """``value`` with unpaired surrogates in its strings replaced by '?', and how many strings."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "replace").decode("utf-8"), 1
        return value, 0
    if isinstance(value, list):
        repaired = [_repair_surrogates(item) for item in value]
        return [item for item, _ in repaired], sum(n for _, n in repaired)
    if isinstance(value, dict):
        total = 0
        out: dict[str, Any] = {}
        for key, item in value.items():
            new_key, n_key = _repair_surrogates(key)
            new_item, n_item = _repair_surrogates(item)
            total += n_key + n_item
            out.setdefault(new_key, new_item)
        return out, total
    return value, 0

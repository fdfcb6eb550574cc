"""Tag=value lists as DKIM defines them (RFC 6376 §3.2), reused by DMARC and BIMI records.

```abnf
tag-list  =  tag-spec *( ";" tag-spec ) [ ";" ]
tag-spec  =  [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
tag-name  =  ALPHA *ALNUMPUNC
tag-value =  [ tval *( 1*(WSP / FWS) tval ) ]
tval      =  1*VALCHAR
VALCHAR   =  %x21-3A / %x3C-7E        ; printable ASCII except ";"
ALNUMPUNC =  ALPHA / DIGIT / "_"
```

:func:`parse_tag_list` never raises: every deviation from the grammar is collected as a
:class:`TagProblem` and the well-formed tags are kept, so each record parser decides what a
problem means for its protocol (DKIM: a duplicate invalidates the record; DMARC: first wins).
Tag names are case-sensitive; values keep their case (RFC 6376 §3.2).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

# FWS unfolded: space, tab, and the CR LF of a folded line (RFC 5322 §3.2.2).
_FWS = " \t\r\n"
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_VALUE = re.compile(r"[\x21-\x3a\x3c-\x7e]+(?:[ \t\r\n]+[\x21-\x3a\x3c-\x7e]+)*\Z")


class TagProblemKind(enum.StrEnum):
    """How one ``;``-separated part of a tag list breaks the grammar."""

    EMPTY = "empty"  # nothing between two separators ("a=1;;b=2")
    NO_EQUALS = "no_equals"  # a part without "="
    BAD_NAME = "bad_name"  # name not ALPHA *ALNUMPUNC
    BAD_VALUE = "bad_value"  # control or non-ASCII characters in the value
    DUPLICATE = "duplicate"  # the same tag name a second time (RFC 6376 §3.2: invalid)


@dataclass(frozen=True, slots=True)
class Tag:
    """One well-formed ``name=value`` pair; ``value`` has surrounding whitespace removed."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class TagProblem:
    """One grammar deviation; ``text`` is the offending part as written."""

    kind: TagProblemKind
    text: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class TagList:
    """The tags in the order written (duplicates included) and every problem found."""

    tags: tuple[Tag, ...] = ()
    problems: tuple[TagProblem, ...] = ()

    def get(self, name: str) -> str | None:
        """The value of the first tag called ``name``, or ``None`` when it is absent."""
        return next((t.value for t in self.tags if t.name == name), None)

    def names(self) -> tuple[str, ...]:
        """Tag names in order of appearance, each once."""
        return tuple(dict.fromkeys(t.name for t in self.tags))

    def duplicates(self) -> tuple[str, ...]:
        """Names that appear more than once."""
        return tuple(p.name for p in self.problems if p.kind is TagProblemKind.DUPLICATE)

    def first_name(self) -> str | None:
        """The name of the first tag written, or ``None`` when there is none."""
        return self.tags[0].name if self.tags else None


def parse_tag_list(text: str) -> TagList:
    """Split ``text`` into tags, collecting every problem; never raises.

    A trailing ``;`` (with optional whitespace) is allowed; any other empty part is a problem.
    A duplicate tag is reported and kept in :attr:`TagList.tags`; :meth:`TagList.get` answers
    with the first occurrence.
    """
    parts = text.split(";")
    if len(parts) > 1 and not parts[-1].strip(_FWS):
        parts.pop()
    tags: list[Tag] = []
    problems: list[TagProblem] = []
    seen: set[str] = set()
    for part in parts:
        tag, problem = _parse_spec(part)
        if problem is not None:
            problems.append(problem)
        if tag is None:
            continue
        if tag.name in seen:
            problems.append(TagProblem(TagProblemKind.DUPLICATE, part.strip(_FWS), tag.name))
        seen.add(tag.name)
        tags.append(tag)
    return TagList(tuple(tags), tuple(problems))


def _parse_spec(part: str) -> tuple[Tag | None, TagProblem | None]:
    """One ``tag-spec``: a tag, or a problem, or (for a bad value) the tag and a problem."""
    stripped = part.strip(_FWS)
    if not stripped:
        return None, TagProblem(TagProblemKind.EMPTY, part)
    name, equals, value = stripped.partition("=")
    name, value = name.strip(_FWS), value.strip(_FWS)
    if not equals:
        return None, TagProblem(TagProblemKind.NO_EQUALS, stripped)
    if not _TAG_NAME.match(name):
        return None, TagProblem(TagProblemKind.BAD_NAME, stripped, name)
    if value and not _VALUE.match(value):
        return Tag(name, value), TagProblem(TagProblemKind.BAD_VALUE, stripped, name)
    return Tag(name, value), None


def render_tag_list(tags: Iterable[tuple[str, str]]) -> str:
    """``name=value`` pairs joined with ``"; "`` in the order given (no trailing separator)."""
    return "; ".join(f"{name}={value}" for name, value in tags)

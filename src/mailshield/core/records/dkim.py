"""DKIM key records at ``<selector>._domainkey.<domain>`` (RFC 6376 §3.6.1, RFC 8301, RFC 8463).

```abnf
key-v-tag    = %x76 [FWS] "=" [FWS] %x44.4B.49.4D.31          ; "DKIM1", first if present
key-h-tag    = %x68 [FWS] "=" [FWS] key-h-tag-alg *( [FWS] ":" [FWS] key-h-tag-alg )
key-k-tag    = %x6b [FWS] "=" [FWS] key-k-tag-type           ; "rsa" (default), "ed25519"
key-p-tag    = %x70 [FWS] "=" [ [FWS] base64string ]          ; empty = revoked
key-s-tag    = %x73 [FWS] "=" [FWS] key-s-tag-type *( [FWS] ":" [FWS] key-s-tag-type )
key-t-tag    = %x74 [FWS] "=" [FWS] key-t-tag-flag *( [FWS] ":" [FWS] key-t-tag-flag )
```

The RSA ``p=`` is read both as SubjectPublicKeyInfo (what OpenSSL ``-pubout`` gives and what is
published in practice) and as a bare RSAPublicKey (what RFC 6376 §3.6.1 literally says); an
Ed25519 ``p=`` is the raw 32-byte key (RFC 8463 §4). A duplicate tag invalidates the record
(RFC 6376 §3.2). :func:`parse_dkim` never raises.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from mailshield.core.catalogue import dkim as codes
from mailshield.core.findings import FindingSpec, finding
from mailshield.core.model import Finding, JSONValue, Status
from mailshield.core.records.tag_value import TagList, TagProblemKind, parse_tag_list

KNOWN_TAGS = frozenset(["v", "h", "k", "n", "p", "s", "t"])
_FWS = re.compile(r"[ \t\r\n]+")
_LIST_SEP = re.compile(r"[ \t\r\n]*:[ \t\r\n]*")
MIN_RSA_BITS, GOOD_RSA_BITS, MAX_RSA_BITS = 1024, 2048, 4096  # RFC 8301 §3.2
ED25519_KEY_BYTES = 32  # RFC 8463 §4


@dataclass(frozen=True, slots=True)
class DkimRecord:
    """A key record (first occurrence of each tag) and what its key turned out to be."""

    tags: tuple[tuple[str, str], ...]
    key_type: str = "rsa"
    hashes: tuple[str, ...] | None = None  # None: any hash (no h= tag)
    services: tuple[str, ...] = ("*",)
    flags: tuple[str, ...] = ()
    key_bits: int | None = None  # RSA modulus size, 256 for Ed25519; None when unreadable
    revoked: bool = False

    @property
    def testing(self) -> bool:
        return "y" in self.flags

    def describe(self) -> str:
        """A few words about the key, e.g. ``2048-bit RSA`` or ``Ed25519``."""
        if self.key_type == "ed25519":
            return "Ed25519"
        return f"{self.key_bits}-bit RSA" if self.key_bits else self.key_type


@dataclass(frozen=True, slots=True)
class DkimParse:
    text: str
    record: DkimRecord | None  # None when the record cannot be read as a tag list at all
    findings: tuple[Finding, ...] = ()

    @property
    def valid(self) -> bool:
        """Whether verifiers can use the key (no fail finding; a revoked key is not usable)."""
        usable = self.record is not None and not self.record.revoked
        return usable and all(f.status is not Status.FAIL for f in self.findings)


def looks_like_dkim(text: str) -> bool:
    """Whether a TXT record is plausibly meant as a DKIM key (has p=, or begins v=DKIM1)."""
    tags = parse_tag_list(text)
    return tags.get("p") is not None or tags.get("v") == "DKIM1"


def parse_dkim(text: str | bytes, *, name: str = "") -> DkimParse:
    """Parse the key record found at ``name``, reporting every problem; never raises."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    tags = parse_tag_list(text)
    notes = _Notes(name)
    _structure(tags, notes)
    pairs = _first_pairs(tags)
    values = dict(pairs)
    key_type = values.get("k", "rsa")
    if key_type not in ("rsa", "ed25519"):
        notes.add(codes.KEY_TYPE_UNKNOWN, value=key_type)
    bits, revoked = _key(values.get("p"), key_type, notes)
    record = DkimRecord(
        tags=pairs,
        key_type=key_type,
        hashes=_colon_list(values["h"]) if "h" in values else None,
        services=_colon_list(values.get("s", "*")),
        flags=_colon_list(values.get("t", "")),
        key_bits=bits,
        revoked=revoked,
    )
    _policy_notes(record, values, notes)
    return DkimParse(text, record, tuple(notes.findings))


class _Notes:
    """Collects findings about the record at one name."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.findings: list[Finding] = []

    def add(self, spec: FindingSpec, **params: JSONValue) -> None:
        self.findings.append(finding(spec, self.name, **params))


def _structure(tags: TagList, notes: _Notes) -> None:
    """Tag-list grammar, duplicates, the version tag and unknown tags (RFC 6376 §3.2, §3.6.1)."""
    for problem in tags.problems:
        if problem.kind is TagProblemKind.DUPLICATE:
            notes.add(codes.TAG_DUPLICATE, tag=problem.name)
        else:
            notes.add(codes.SYNTAX, text=problem.text, problem=problem.kind.value)
    version = tags.get("v")
    if version is not None and version != "DKIM1":
        notes.add(codes.VERSION_INVALID, value=version, problem="is not DKIM1")
    elif version is not None and tags.first_name() != "v":
        notes.add(codes.VERSION_INVALID, value=version, problem="is not the first tag")
    for tag in tags.names():
        if tag not in KNOWN_TAGS:
            notes.add(codes.TAG_UNKNOWN, tag=tag)


def _first_pairs(tags: TagList) -> tuple[tuple[str, str], ...]:
    seen: dict[str, str] = {}
    for tag in tags.tags:
        seen.setdefault(tag.name, tag.value)
    return tuple(seen.items())


def _colon_list(value: str) -> tuple[str, ...]:
    return tuple(part for part in _LIST_SEP.split(value.strip()) if part)


def _key(value: str | None, key_type: str, notes: _Notes) -> tuple[int | None, bool]:
    """The key size in bits and whether the key is revoked (empty ``p=``)."""
    if value is None:
        notes.add(codes.KEY_MISSING)
        return None, False
    compact = _FWS.sub("", value)
    if not compact:
        notes.add(codes.KEY_REVOKED)
        return None, True
    if compact != value:
        notes.add(codes.KEY_WHITESPACE)
    if key_type not in ("rsa", "ed25519"):
        return None, False  # reported as an unknown type; the key cannot be judged
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        notes.add(codes.KEY_INVALID, key_type=key_type, problem="not valid base64")
        return None, False
    if key_type == "ed25519":
        return _ed25519_bits(data, notes), False
    return _rsa_bits(data, notes), False


def _rsa_bits(data: bytes, notes: _Notes) -> int | None:
    """Load SubjectPublicKeyInfo or bare RSAPublicKey DER (reference §12 item 13)."""
    try:
        key = load_der_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        notes.add(codes.KEY_INVALID, key_type="RSA", problem="not a DER-encoded public key")
        return None
    if not isinstance(key, rsa.RSAPublicKey):
        notes.add(codes.KEY_INVALID, key_type="RSA", problem="the key is not an RSA key")
        return None
    return key.key_size


def _ed25519_bits(data: bytes, notes: _Notes) -> int | None:
    """RFC 8463 §4: the raw 32-byte public key, not wrapped in SubjectPublicKeyInfo."""
    if len(data) != ED25519_KEY_BYTES:
        problem = f"{len(data)} bytes instead of the raw 32-byte key"
        notes.add(codes.KEY_INVALID, key_type="Ed25519", problem=problem)
        return None
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(data)
    except ValueError:
        notes.add(codes.KEY_INVALID, key_type="Ed25519", problem="not a valid Ed25519 key")
        return None
    return 256


def _policy_notes(record: DkimRecord, values: dict[str, str], notes: _Notes) -> None:
    """Key size (RFC 8301 §3.2), hashes (§3.1), services and flags (RFC 6376 §3.6.1)."""
    bits = record.key_bits
    if record.key_type == "rsa" and bits is not None:
        if bits < MIN_RSA_BITS:
            notes.add(codes.KEY_WEAK, bits=bits)
        elif bits < GOOD_RSA_BITS:
            notes.add(codes.KEY_SHORT, bits=bits)
        elif bits > MAX_RSA_BITS:
            notes.add(codes.KEY_LARGE, bits=bits)
    if record.hashes is not None:
        known = [h for h in record.hashes if h in ("sha1", "sha256")]
        if known and set(known) == {"sha1"}:
            notes.add(codes.HASH_SHA1_ONLY, value=values["h"])
        elif "sha1" in known:
            notes.add(codes.HASH_SHA1, value=values["h"])
    if not {"*", "email"} & set(record.services):
        notes.add(codes.SERVICE_EXCLUDED, value=values.get("s", ""))
    if record.testing:
        notes.add(codes.TESTING)

"""DKIM key-record finding codes (RFC 6376 §3.6.1, RFC 8301, RFC 8463). Titles carry DKIM-nn.

Selectors cannot be discovered from DNS: a selector the user names and that has no key is fail;
a common selector that is absent is not a problem; no key found at all is info.
"""

from __future__ import annotations

from mailshield.core.findings import define
from mailshield.core.model import Status

_KEY = "RFC 6376 §3.6.1"
_CRYPTO = "RFC 8301 §3.2"

DOMAIN_INVALID = define(
    "dkim.domain.invalid",
    Status.ERROR,
    "Domain name cannot be checked",
    "{subject} is not a valid domain name: {problem}.",
    "RFC 6376 §3.6.2.1",
)
SELECTOR_INVALID = define(
    "dkim.selector.invalid",
    Status.ERROR,
    "Selector cannot be looked up",
    "The selector {selector!r} is not a valid DNS name ({problem}); it was not checked.",
    "RFC 6376 §3.1",
)
DNS_FAILED = define(
    "dkim.dns.failed",
    Status.ERROR,
    "DKIM key lookup failed",
    "The TXT lookup of {subject} did not complete ({outcome}).",
    "RFC 6376 §3.6.2.2",
)
KEY_NOT_FOUND = define(
    "dkim.key.not_found",
    Status.FAIL,
    "No key at the selector (DKIM-01)",
    "{subject} has no TXT record ({outcome}): signatures with selector {selector} fail.",
    "RFC 6376 §6.1.2",
    'Publish the selector\'s public key as TXT "v=DKIM1; k=rsa; p=<base64 key>".',
)
NONE_FOUND = define(
    "dkim.key.none_found",
    Status.INFO,
    "No DKIM key found at common selectors",
    "No DKIM key found for {subject}: {where}. Selectors cannot be discovered from DNS: name"
    " the selectors your mail is signed with to check them.",
    "RFC 6376 §3.1, RFC 8020 §2",
)
RECORD_MULTIPLE = define(
    "dkim.record.multiple",
    Status.FAIL,
    "Several TXT records at the selector (DKIM-02)",
    "{subject} has {count} TXT records; verifier behaviour is undefined.",
    "RFC 6376 §3.6.2.2",
    "Keep a single TXT record at the selector.",
)
VERSION_INVALID = define(
    "dkim.version.invalid",
    Status.FAIL,
    "Bad v= tag (DKIM-03)",
    "{subject}: v={value!r} {problem}; verifiers discard the record.",
    _KEY,
    "Start the record with v=DKIM1; or leave v= out.",
)
SYNTAX = define(
    "dkim.syntax",
    Status.FAIL,
    "Malformed tag list (DKIM-04)",
    "{subject}: {text!r} is not a valid tag=value pair ({problem}); verifiers reject the key.",
    "RFC 6376 §3.2",
)
TAG_DUPLICATE = define(
    "dkim.tag.duplicate",
    Status.FAIL,
    "Tag given twice (DKIM-04)",
    "{subject}: the tag {tag!r} appears more than once, which makes the whole record invalid.",
    "RFC 6376 §3.2",
    "Keep one occurrence of each tag.",
)
KEY_MISSING = define(
    "dkim.key.missing",
    Status.FAIL,
    "No p= tag (DKIM-05)",
    "{subject} has no p= tag: it is not a usable key record.",
    _KEY,
)
KEY_INVALID = define(
    "dkim.key.invalid",
    Status.FAIL,
    "Public key cannot be read (DKIM-05)",
    "{subject}: the p= value is not a valid {key_type} public key ({problem}).",
    "RFC 6376 §3.6.1, RFC 8463 §4",
    "Publish the key again as one base64 string (join split TXT strings without spaces).",
)
KEY_REVOKED = define(
    "dkim.key.revoked",
    Status.WARN,
    "Key revoked (DKIM-06)",
    "{subject} has an empty p=: the key is revoked and signatures with it fail.",
    _KEY,
    "If the selector is still used for signing, publish its key; else remove the record.",
)
KEY_TYPE_UNKNOWN = define(
    "dkim.key.type_unknown",
    Status.FAIL,
    "Unknown key type (DKIM-07)",
    "{subject}: k={value!r} is neither rsa nor ed25519; verifiers cannot use the key.",
    "RFC 6376 §3.6.1, RFC 8463 §4",
)
KEY_WEAK = define(
    "dkim.key.weak",
    Status.FAIL,
    "RSA key shorter than 1024 bits (DKIM-08)",
    "{subject}: the RSA key has {bits} bits; verifiers MUST treat keys under 1024 bits as invalid.",
    _CRYPTO,
    "Generate a 2048-bit RSA key (or an Ed25519 key beside it) and publish it under a new"
    " selector.",
)
KEY_SHORT = define(
    "dkim.key.short",
    Status.WARN,
    "RSA key shorter than 2048 bits (DKIM-08)",
    "{subject}: the RSA key has {bits} bits; signers SHOULD use at least 2048.",
    _CRYPTO,
    "Generate a 2048-bit RSA key and publish it under a new selector.",
)
KEY_LARGE = define(
    "dkim.key.large",
    Status.WARN,
    "RSA key longer than 4096 bits (DKIM-08)",
    "{subject}: the RSA key has {bits} bits; verifiers need only support up to 4096.",
    _CRYPTO,
)
HASH_SHA1_ONLY = define(
    "dkim.hash.sha1_only",
    Status.FAIL,
    "Key limited to SHA-1 (DKIM-09)",
    "{subject}: h={value} allows only SHA-1, which verifiers MUST NOT accept.",
    "RFC 8301 §3.1",
    "Remove the h= tag (or use h=sha256).",
)
HASH_SHA1 = define(
    "dkim.hash.sha1",
    Status.INFO,
    "Key allows SHA-1 (DKIM-09)",
    "{subject}: h={value} still lists SHA-1, which is no longer used.",
    "RFC 8301 §3.1",
)
TESTING = define(
    "dkim.testing",
    Status.WARN,
    "Key in testing mode (DKIM-10)",
    "{subject}: t=y asks verifiers to treat signed mail like unsigned mail.",
    _KEY,
    "Remove the y flag from t= once signing works.",
)
SERVICE_EXCLUDED = define(
    "dkim.service.excluded",
    Status.FAIL,
    "Key not for email (DKIM-11)",
    "{subject}: s={value} excludes email, so email verifiers ignore the key.",
    _KEY,
)
KEY_WHITESPACE = define(
    "dkim.key.whitespace",
    Status.INFO,
    "Whitespace inside p= (DKIM-12)",
    "{subject}: the key contains whitespace; verifiers remove it, but some tools do not.",
    _KEY,
)
TAG_UNKNOWN = define(
    "dkim.tag.unknown",
    Status.INFO,
    "Unknown tag (DKIM-13)",
    "{subject}: the tag {tag!r} is not defined for key records and is ignored.",
    _KEY,
)
KEY_OK = define(
    "dkim.key.ok",
    Status.PASS,
    "DKIM key published",
    "{subject} publishes a {description} key.",
    _KEY,
)

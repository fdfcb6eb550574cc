"""DKIM key records (RFC 6376 §3.6.1, RFC 8301, RFC 8463) and the tag-list grammar beneath."""

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.records.dkim import looks_like_dkim, parse_dkim
from mailshield.core.records.tag_value import TagProblemKind, parse_tag_list, render_tag_list

NAME = "s1._domainkey.example.com"


def rsa_key(bits: int, fmt: PublicFormat = PublicFormat.SubjectPublicKeyInfo) -> str:
    """A base64 RSA public key of ``bits`` bits (a synthetic modulus: only the size matters)."""
    key = rsa.RSAPublicNumbers(65537, (1 << (bits - 1)) | 1).public_key()
    return base64.b64encode(key.public_bytes(Encoding.DER, fmt)).decode()


ED25519 = base64.b64encode(
    ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
    .public_key()
    .public_bytes(Encoding.Raw, PublicFormat.Raw)
).decode()
RSA2048 = rsa_key(2048)


def codes(text: str) -> list[str]:
    return [f.code for f in parse_dkim(text, name=NAME).findings]


@pytest.mark.parametrize(
    ("text", "description"),
    [
        pytest.param(f"v=DKIM1; k=rsa; p={RSA2048}", "2048-bit RSA", id="spki"),
        pytest.param(f"p={RSA2048}", "2048-bit RSA", id="only-p"),
        pytest.param(
            f"v=DKIM1; p={rsa_key(2048, PublicFormat.PKCS1)}",
            "2048-bit RSA",
            id="bare-rsapublickey",
        ),
        pytest.param(f"v=DKIM1; k=ed25519; p={ED25519}", "Ed25519", id="ed25519"),
        pytest.param(f"v=DKIM1; h=sha256; s=email; t=s; p={RSA2048}", "2048-bit RSA", id="tags"),
        pytest.param(f"v = DKIM1 ;\r\n\tp = {RSA2048} ;", "2048-bit RSA", id="folding-whitespace"),
    ],
)
def test_valid_keys(text: str, description: str) -> None:
    """Usable key records parse without findings and describe their key."""
    result = parse_dkim(text, name=NAME)
    assert result.findings == ()
    assert result.valid
    assert result.record is not None
    assert result.record.describe() == description


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(f"p={rsa_key(512)}", ["dkim.key.weak"], id="rsa-512-fails"),
        pytest.param(f"p={rsa_key(1023)}", ["dkim.key.weak"], id="rsa-1023-fails"),
        pytest.param(f"p={rsa_key(1024)}", ["dkim.key.short"], id="rsa-1024-warns"),
        pytest.param(f"p={rsa_key(2047)}", ["dkim.key.short"], id="rsa-2047-warns"),
        pytest.param(f"p={rsa_key(4096)}", [], id="rsa-4096-fine"),
        pytest.param(f"p={rsa_key(8192)}", ["dkim.key.large"], id="rsa-8192-warns"),
        pytest.param("v=DKIM1; p=", ["dkim.key.revoked"], id="empty-p-revoked"),
        pytest.param("v=DKIM1; k=rsa", ["dkim.key.missing"], id="no-p"),
        pytest.param(f"v=DKIM1; t=y; p={RSA2048}", ["dkim.testing"], id="testing"),
        pytest.param(f"v=DKIM1; t=s:y; p={RSA2048}", ["dkim.testing"], id="testing-in-list"),
        pytest.param(f"v=DKIM1; k=dsa; p={RSA2048}", ["dkim.key.type_unknown"], id="unknown-k"),
        pytest.param(f"v=DKIM2; p={RSA2048}", ["dkim.version.invalid"], id="wrong-version"),
        pytest.param(f"p={RSA2048}; v=DKIM1", ["dkim.version.invalid"], id="version-not-first"),
        pytest.param(f"v=DKIM1; p={RSA2048}; p={RSA2048}", ["dkim.tag.duplicate"], id="dup-tag"),
        pytest.param(f"v=DKIM1; p={RSA2048}; junk", ["dkim.syntax"], id="part-without-equals"),
        pytest.param(f"v=DKIM1; 1x=2; p={RSA2048}", ["dkim.syntax"], id="bad-tag-name"),
        pytest.param(f"v=DKIM1; h=sha1; p={RSA2048}", ["dkim.hash.sha1_only"], id="sha1-only"),
        pytest.param(f"v=DKIM1; h=sha1:sha256; p={RSA2048}", ["dkim.hash.sha1"], id="sha1-also"),
        pytest.param(f"v=DKIM1; s=tlsrpt; p={RSA2048}", ["dkim.service.excluded"], id="not-email"),
        pytest.param(f"v=DKIM1; g=*; p={RSA2048}", ["dkim.tag.unknown"], id="legacy-g"),
        pytest.param(
            f"v=DKIM1; p={RSA2048[:100]} {RSA2048[100:]}", ["dkim.key.whitespace"], id="space-in-p"
        ),
        pytest.param("v=DKIM1; p=not*base64", ["dkim.key.invalid"], id="not-base64"),
        pytest.param("v=DKIM1; p=AAAA", ["dkim.key.invalid"], id="not-der"),
        pytest.param(
            f"v=DKIM1; p={RSA2048[:-8]}", ["dkim.key.invalid"], id="truncated-split-wrongly"
        ),
        pytest.param(
            f"v=DKIM1; k=ed25519; p={RSA2048}", ["dkim.key.invalid"], id="ed25519-wrong-length"
        ),
        pytest.param(f"v=DKIM1; p={ED25519}", ["dkim.key.invalid"], id="ed25519-key-as-rsa"),
    ],
)
def test_findings(text: str, expected: list[str]) -> None:
    """Each key-record problem produces its own code (DKIM-03 … DKIM-13)."""
    assert codes(text) == expected


def test_revoked_key_is_not_usable() -> None:
    """An empty p= means the key is revoked: the record is not usable for verification."""
    result = parse_dkim("v=DKIM1; p=")
    assert result.record is not None
    assert result.record.revoked
    assert not result.valid


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("v=DKIM1; p=abc", True, id="dkim"),
        pytest.param("p=", True, id="revoked"),
        pytest.param("v=spf1 -all", False, id="spf"),
        pytest.param("google-site-verification=x", False, id="verification"),
    ],
)
def test_looks_like_dkim(text: str, expected: bool) -> None:
    """Only records with p= or v=DKIM1 are taken as keys at common selectors."""
    assert looks_like_dkim(text) is expected


# --- the shared tag=value grammar (RFC 6376 §3.2) ------------------------------------------


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        pytest.param("a=1; b=2;", [], id="trailing-separator"),
        pytest.param("a=1;;b=2", [TagProblemKind.EMPTY], id="empty-part"),
        pytest.param("a=1; b", [TagProblemKind.NO_EQUALS], id="no-equals"),
        pytest.param("_a=1", [TagProblemKind.BAD_NAME], id="name-starts-with-underscore"),
        pytest.param("a=1; a=2", [TagProblemKind.DUPLICATE], id="duplicate"),
        pytest.param("a=\x01", [TagProblemKind.BAD_VALUE], id="control-character"),
        pytest.param("a=b c d", [], id="inner-whitespace-allowed"),
    ],
)
def test_tag_list_problems(text: str, kinds: list[TagProblemKind]) -> None:
    """Every grammar deviation is reported with its kind."""
    assert [p.kind for p in parse_tag_list(text).problems] == kinds


def test_tag_list_keeps_first_value_and_case() -> None:
    """Names are case-sensitive, values keep their case, and get() answers the first value."""
    tags = parse_tag_list("A=1; a=X; a=y")
    assert (tags.get("A"), tags.get("a"), tags.duplicates()) == ("1", "X", ("a",))


@given(st.text())
def test_parsers_never_raise(text: str) -> None:
    """For any text, the tag-list and key-record parsers return a result."""
    parse_tag_list(text)
    parse_dkim(text)
    parse_dkim("v=DKIM1; p=" + text)


@given(st.binary())
def test_parse_never_raises_on_key_bytes(data: bytes) -> None:
    """For any decoded key bytes, both key types are judged without raising."""
    encoded = base64.b64encode(data).decode()
    parse_dkim(f"v=DKIM1; p={encoded}")
    parse_dkim(f"v=DKIM1; k=ed25519; p={encoded}")


_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,8}", fullmatch=True)
_VALUE = st.from_regex(r"[!-:<-~]{1,8}( [!-:<-~]{1,8})?", fullmatch=True)


@given(st.dictionaries(_NAME, _VALUE, min_size=1, max_size=6))
def test_tag_list_round_trip(tags: dict[str, str]) -> None:
    """A rendered tag list parses back to the same pairs without problems."""
    parsed = parse_tag_list(render_tag_list(tags.items()))
    assert parsed.problems == ()
    assert {t.name: t.value for t in parsed.tags} == tags

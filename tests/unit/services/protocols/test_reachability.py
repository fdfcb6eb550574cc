"""Every SPF, DMARC, DKIM and BIMI finding code can be produced from DNS data alone.

The lab integration tests build their worlds from DNS zones; this test proves each code has such
a world, and is a catalogue of them (one small zone per domain below).
"""

import base64
import json
import string

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from tests.support.fake_dns import NXDOMAIN, SERVFAIL, TIMEOUT, Entry, FakeDns

from mailshield.core.findings import catalogue
from mailshield.core.model import CheckResult
from mailshield.services.protocols.bimi import check_bimi
from mailshield.services.protocols.dkim import check_dkim
from mailshield.services.protocols.dmarc import check_dmarc
from mailshield.services.protocols.spf import check_spf

# Codes that come from the caller's input (a malformed domain or selector), not from DNS.
INPUT_ONLY = {
    "spf.domain.invalid",
    "dmarc.domain.invalid",
    "dkim.domain.invalid",
    "bimi.domain.invalid",
    "dkim.selector.invalid",
}


def _key(bits: int) -> str:
    key = rsa.RSAPublicNumbers(65537, (1 << (bits - 1)) | 1).public_key()
    der = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


K2048 = _key(2048)
LOGO = "https://example.com/logo.svg"
VMC = "https://example.com/vmc.pem"
REJECT = "v=DMARC1; p=reject; rua=mailto:d@example.com"

SPF: dict[str, list[str] | Entry] = {
    "ok.test": ["v=spf1 ip4:192.0.2.1 -all"],
    "timeout.test": TIMEOUT,
    "two.test": ["v=spf1 -all", "v=spf1 mx -all"],
    "near.test": [" v=spf1 -all"],
    "broken.test": [
        "v=spf1 ip4:1.2.3 ptr ip4:10.0.0.0/8 foo=bar a:x.example. exists:%{s}.example.com"
        " include:%{i}.example.com redirect=a.example redirect=b.example ?all mx"
    ],
    "loop.test": ["v=spf1 include:loop2.test -all"],
    "loop2.test": ["v=spf1 include:loop.test +all"],
    "many.test": ["v=spf1 " + " ".join(f"a:h{i}.many.test" for i in range(11)) + " ~all"],
    "eight.test": ["v=spf1 " + " ".join(f"a:h{i}.many.test" for i in range(8)) + " -all"],
    "void.test": ["v=spf1 a:gone1.test a:gone2.test a:gone3.test include:nx.test -all"],
    "void2.test": ["v=spf1 a:gone1.test a:gone2.test -all"],
    "mx.test": ["v=spf1 mx redirect=nx.test"],
    "redir.test": ["v=spf1 redirect=nx.test"],
    "neutral.test": ["v=spf1 mx"],
    "big.test": ["v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(50)) + " -all"],
    "nullmx.test": ["v=spf1 mx ~all"],
    "deep.test": ["v=spf1 include:d1.deep.test -all"],
}
ZONE: dict[str, Entry] = {f"{name} TXT": value for name, value in SPF.items()}
ZONE.update({f"h{i}.many.test A": ["192.0.2.1"] for i in range(11)})
ZONE.update({f"d{i}.deep.test TXT": [f"v=spf1 include:d{i + 1}.deep.test -all"] for i in range(20)})
ZONE["mx.test MX"] = [f"{i} mx{i}.mx.test." for i in range(11)]
ZONE["nullmx.test MX"] = ["0 ."]
ZONE["missing.test MX"] = ["10 mx.missing.test."]

DMARC = {
    "d-ok.test": [REJECT],
    "d-multi.test": [REJECT, REJECT + ";"],
    "d-syntax.test": ["v=dmarc1; p=reject"],
    "d-tags.test": [
        "v=DMARC1; rua=mailto:d@d-tags.test; p=Reject; p=none; sp=all; pct=50; psd=y; t=y; x=1;"
        " ruf=https://r.example/f!10m,bad; fo=0:1; junk; rua=mailto:r@d-tags.test!10m"
    ],
    "d-none.test": ["v=DMARC1; p=none; sp=none; fo=1"],
    "d-nop.test": ["v=DMARC1; p=bogus"],
    "d-q.test": ["v=DMARC1; p=quarantine; sp=none; rua=mailto:d@d-q.test"],
    "d-missing-p.test": ["v=DMARC1"],
    "d-ext.test": [
        "v=DMARC1; p=reject; rua=mailto:a@ext1.example,mailto:b@ext2.example,"
        "mailto:c@ext3.example; ruf=mailto:f@ext1.example"
    ],
    "sub.d-ok.test": ["v=DMARC1; p=reject; sp=reject; rua=mailto:d@d-ok.test"],
}
ZONE.update({f"_dmarc.{name} TXT": value for name, value in DMARC.items()})
ZONE["_dmarc.d-fail.test TXT"] = SERVFAIL
ZONE["d-ext.test._report._dmarc.ext2.example TXT"] = ["v=DMARC1; rua=mailto:x@other.example"]
ZONE["d-ext.test._report._dmarc.ext3.example TXT"] = TIMEOUT

DKIM = {
    "k-ok.test": {"s": f"v=DKIM1; p={K2048}"},
    "k-bad.test": {
        "weak": f"p={_key(512)}",
        "short": f"p={_key(1024)}",
        "large": f"p={_key(8192)}",
        "revoked": "v=DKIM1; p=",
        "nop": "v=DKIM1; k=rsa",
        "type": "v=DKIM1; k=dsa; p=abc",
        "flags": f"k=rsa; v=DKIM2; h=sha1; s=tlsrpt; t=y; g=*; p={K2048[:50]} {K2048[50:]}",
        "sha1": f"v=DKIM1; h=sha1:sha256; p={K2048}; junk; p={K2048}",
        "invalid": "v=DKIM1; p=AAAA",
    },
}
for domain, keys in DKIM.items():
    ZONE.update({f"{s}._domainkey.{domain} TXT": [text] for s, text in keys.items()})
ZONE["multi._domainkey.k-bad.test TXT"] = [f"p={K2048}", f"p={K2048}"]
ZONE["fail._domainkey.k-bad.test TXT"] = TIMEOUT
ZONE["gone._domainkey.k-bad.test TXT"] = NXDOMAIN

BIMI = {
    "b-ok.test": [f"v=BIMI1; l={LOGO}; a={VMC}"],
    "b-none.test": ["v=BIMI1; l=https://example.com/logo.png"],
    "b-bad.test": ["v=BIMI1; a=http://x.example/v; avp=x; avp=brand"],
    "b-multi.test": [f"v=BIMI1; l={LOGO}", f"v=BIMI1; l={LOGO};"],
    "b-declined.test": ["v=BIMI1; l=; a=;"],
    "d-fail.test": [f"v=BIMI1; l={LOGO}; a={VMC}"],
}
ZONE.update({f"default._bimi.{name} TXT": value for name, value in BIMI.items()})
ZONE["default._bimi.b-timeout.test TXT"] = TIMEOUT
ZONE.update({f"_dmarc.{n} TXT": [REJECT] for n in ("b-ok.test", "b-bad.test", "b-multi.test")})

DOMAINS = sorted(
    {*SPF, *DMARC, *DKIM, *BIMI, "missing.test", "d-fail.test", "b-timeout.test", "sub.d-ok.test"}
)


async def test_every_code_is_reachable_from_dns_data() -> None:
    """The zones above produce every code of the four catalogues."""
    dns = FakeDns(ZONE)
    seen: set[str] = set()
    for domain in DOMAINS:
        selectors = sorted(DKIM.get(domain, {})) + ["multi", "fail", "gone"] * (
            domain == "k-bad.test"
        )
        dmarc = await check_dmarc(dns, domain)
        results = [
            await check_spf(dns, domain),
            dmarc,
            await check_dkim(dns, domain, selectors),
            await check_bimi(dns, domain, dmarc),
        ]
        seen |= {f.code for r in results for f in r.findings}
        for result in results:
            _assert_well_formed(result)
    # dkim.key.none_found needs a domain checked without selectors of its own
    seen |= {f.code for f in (await check_dkim(dns, "nothing.test")).findings}
    mine = {c for c in catalogue() if c.split(".")[0] in ("spf", "dmarc", "dkim", "bimi")}
    assert mine - INPUT_ONLY - seen == set()


def _assert_well_formed(result: CheckResult) -> None:
    """Evidence is JSON and every message placeholder was given a value."""
    json.dumps(result.to_dict())
    specs = catalogue()
    for found in result.findings:
        fields = {f for _, f, _, _ in string.Formatter().parse(specs[found.code].message) if f}
        missing = {f.split("!")[0] for f in fields} - {*found.params, "subject"}
        assert not missing, (found.code, missing)

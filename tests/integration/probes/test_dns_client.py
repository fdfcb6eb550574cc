"""The DNS probe against an in-test resolver: outcomes, transport, CNAMEs, DNSSEC, caching."""

from __future__ import annotations

import asyncio

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import pytest
from probe_dns_peer import Handler, Reply, StartDnsPeer, reply

from mailshield.core.observations import DnsAnswer, DnsOutcome, Dnssec, MxRecord, TlsaRecord
from mailshield.probes.dns import DnsClient, DnsLimits

SOA = "example.test. 300 IN SOA ns.example.test. h.example.test. 1 3600 600 86400 300"


def silent(query: dns.message.Message, transport: str) -> Reply:
    """Never answers."""
    return None


async def ask(
    dns_peer: StartDnsPeer, handler: Handler, name: str, rdtype: str, **client: object
) -> DnsAnswer:
    """Start a peer with ``handler`` and ask it one question through a fresh client."""
    peer = await dns_peer(handler)
    return await DnsClient([peer.address], timeout=0.5, **client).query(name, rdtype)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("handler", "outcome"),
    [
        pytest.param(
            lambda q, t: reply(q, "www.example.test. 300 IN A 192.0.2.1"), DnsOutcome.OK, id="ok"
        ),
        pytest.param(
            lambda q, t: reply(q, rcode=dns.rcode.NXDOMAIN, authority=(SOA,)),
            DnsOutcome.NXDOMAIN,
            id="nxdomain",
        ),
        pytest.param(lambda q, t: reply(q, authority=(SOA,)), DnsOutcome.NODATA, id="nodata"),
        pytest.param(
            lambda q, t: reply(q, rcode=dns.rcode.SERVFAIL), DnsOutcome.SERVFAIL, id="servfail"
        ),
        pytest.param(
            lambda q, t: reply(q, rcode=dns.rcode.REFUSED), DnsOutcome.REFUSED, id="refused"
        ),
        pytest.param(
            lambda q, t: reply(q, rcode=dns.rcode.FORMERR), DnsOutcome.ERROR, id="formerr"
        ),
        pytest.param(silent, DnsOutcome.TIMEOUT, id="timeout"),
        pytest.param(lambda q, t: q.to_wire()[:2] + b"\x81", DnsOutcome.ERROR, id="garbage"),
    ],
)
async def test_each_server_behaviour_has_its_own_outcome(
    dns_peer: StartDnsPeer, handler: Handler, outcome: DnsOutcome
) -> None:
    """Every way a resolver can answer maps to a distinct outcome; a timeout is never NXDOMAIN."""
    answer = await ask(dns_peer, handler, "www.example.test", "A")
    assert answer.outcome is outcome
    assert answer.name == "www.example.test"
    assert answer.rdtype == "A"
    if outcome.is_failure:
        assert answer.detail


async def test_truncated_udp_answer_is_asked_again_over_tcp(dns_peer: StartDnsPeer) -> None:
    """A UDP reply with TC set is retried over TCP, and the TCP answer is used (RFC 7766 §5)."""

    def handler(query: dns.message.Message, transport: str) -> Reply:
        if transport == "udp":
            return reply(query, truncated=True)
        return reply(query, 'example.test. 300 IN TXT "v=spf1 -all"')

    peer = await dns_peer(handler)
    answer = await DnsClient([peer.address], timeout=1).query("example.test", "TXT")
    assert answer.txt() == (b"v=spf1 -all",)
    assert [s.transport for s in peer.seen] == ["udp", "tcp"]


async def test_query_asks_for_dnssec_with_edns(dns_peer: StartDnsPeer) -> None:
    """Queries carry EDNS(0) with the DO bit and the AD bit, so a validating resolver reports."""
    peer = await dns_peer(lambda q, t: reply(q, authority=(SOA,)))
    await DnsClient([peer.address]).query("example.test", "MX")
    [seen] = peer.seen
    assert seen.ednsflags & dns.flags.DO
    assert seen.flags & dns.flags.AD
    assert seen.flags & dns.flags.RD
    assert seen.payload == 1232


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(
            ['example.test. 300 IN TXT "v=spf1 include:a.example " "include:b.example -all"'],
            (b"v=spf1 include:a.example include:b.example -all",),
            id="strings-joined-without-separator",
        ),
        pytest.param(
            ['example.test. 300 IN TXT "v=spf1 -all"', 'example.test. 300 IN TXT "other"'],
            (b"v=spf1 -all", b"other"),
            id="records-kept-apart",
        ),
        pytest.param(
            ['example.test. 300 IN TXT "caf\\195\\169"'], (b"caf\xc3\xa9",), id="raw-bytes"
        ),
    ],
)
async def test_txt_records_are_one_bytes_value_per_rr(
    dns_peer: StartDnsPeer, lines: list[str], expected: tuple[bytes, ...]
) -> None:
    """Each TXT RR becomes its character-strings joined with no separator (RFC 7208 §3.3)."""
    answer = await ask(dns_peer, lambda q, t: reply(q, *lines), "example.test", "TXT")
    assert sorted(answer.txt()) == sorted(expected)


@pytest.mark.parametrize(
    ("rdtype", "lines", "expected"),
    [
        pytest.param(
            "MX",
            [
                "example.test. 300 IN MX 10 MX1.Example.TEST.",
                "example.test. 300 IN MX 20 mx2.example.test.",
            ],
            {MxRecord(10, "mx1.example.test"), MxRecord(20, "mx2.example.test")},
            id="mx-lower-case-no-dot",
        ),
        pytest.param("MX", ["example.test. 300 IN MX 0 ."], {MxRecord(0, "")}, id="null-mx"),
        pytest.param(
            "TLSA",
            ["example.test. 300 IN TLSA 3 1 0 0102ab"],
            {TlsaRecord(3, 1, 0, b"\x01\x02\xab")},
            id="tlsa",
        ),
        pytest.param("AAAA", ["example.test. 300 IN AAAA 2001:DB8::1"], {"2001:db8::1"}, id="aaaa"),
        pytest.param(
            "NS", ["example.test. 300 IN NS NS1.example.test."], {"ns1.example.test"}, id="ns"
        ),
    ],
)
async def test_records_are_plain_values(
    dns_peer: StartDnsPeer, rdtype: str, lines: list[str], expected: set[object]
) -> None:
    """MX, TLSA and address records come back as the observation types, names normalised."""
    answer = await ask(dns_peer, lambda q, t: reply(q, *lines), "example.test", rdtype)
    assert answer.ok
    assert set(answer.records) == expected


async def test_cname_chain_is_recorded(dns_peer: StartDnsPeer) -> None:
    """A chain in one response is followed; the names it went through are kept in order."""
    answer = await ask(
        dns_peer,
        lambda q, t: reply(
            q,
            "_mta-sts.example.test. 300 IN CNAME _mta-sts.hoster.test.",
            "_mta-sts.hoster.test. 300 IN CNAME policy.hoster.test.",
            'policy.hoster.test. 300 IN TXT "v=STSv1; id=1"',
        ),
        "_mta-sts.example.test",
        "TXT",
    )
    assert answer.txt() == (b"v=STSv1; id=1",)
    assert answer.cname_chain == ("_mta-sts.hoster.test", "policy.hoster.test")
    assert answer.canonical_name == "policy.hoster.test"


async def test_unchased_cname_is_asked_again_for_its_target(dns_peer: StartDnsPeer) -> None:
    """When a server stops at a CNAME without data or SOA, the target is asked for itself."""
    answers = {
        "www.example.test": ("www.example.test. 300 IN CNAME web.other.test.",),
        "web.other.test": ("web.other.test. 300 IN A 192.0.2.7",),
    }

    def handler(query: dns.message.Message, transport: str) -> Reply:
        name = query.question[0].name.to_text(omit_final_dot=True)
        return reply(query, *answers[name])

    peer = await dns_peer(handler)
    answer = await DnsClient([peer.address]).query("www.example.test", "A")
    assert answer.records == ("192.0.2.7",)
    assert answer.cname_chain == ("web.other.test",)
    assert [s.name for s in peer.seen] == ["www.example.test", "web.other.test"]


async def test_cname_then_nxdomain_keeps_the_chain(dns_peer: StartDnsPeer) -> None:
    """NXDOMAIN after a CNAME is about the target (RFC 6604 §3), and the chain is kept."""
    answer = await ask(
        dns_peer,
        lambda q, t: reply(
            q, "a.example.test. 300 IN CNAME gone.example.test.", rcode=dns.rcode.NXDOMAIN
        ),
        "a.example.test",
        "A",
    )
    assert answer.outcome is DnsOutcome.NXDOMAIN
    assert answer.cname_chain == ("gone.example.test",)


@pytest.mark.parametrize(
    ("lines", "detail"),
    [
        pytest.param(
            [
                "a.example.test. 300 IN CNAME b.example.test.",
                "b.example.test. 300 IN CNAME a.example.test.",
            ],
            "CNAME loop",
            id="two-name-loop",
        ),
        pytest.param(
            ["a.example.test. 300 IN CNAME a.example.test."], "CNAME loop", id="self-loop"
        ),
        pytest.param(
            [f"c{i}.example.test. 300 IN CNAME c{i + 1}.example.test." for i in range(4)]
            + ["c4.example.test. 300 IN A 192.0.2.1"],
            "CNAME chain longer than 3",
            id="too-long",
        ),
    ],
)
async def test_cname_loops_and_long_chains_are_errors(
    dns_peer: StartDnsPeer, lines: list[str], detail: str
) -> None:
    """A loop or an over-long chain is an ERROR with a detail, never a hang."""
    name = lines[0].split()[0].rstrip(".")
    answer = await ask(
        dns_peer,
        lambda q, t: reply(q, *lines),
        name,
        "A",
        limits=DnsLimits(max_cname_chain=3),
    )
    assert answer.outcome is DnsOutcome.ERROR
    assert answer.detail.startswith(detail)


async def test_loop_across_responses_is_an_error(dns_peer: StartDnsPeer) -> None:
    """A loop that only shows when the client chases CNAMEs itself is also caught."""
    targets = {"a.example.test": "b.example.test.", "b.example.test": "a.example.test."}

    def handler(query: dns.message.Message, transport: str) -> Reply:
        name = query.question[0].name.to_text(omit_final_dot=True)
        return reply(query, f"{name}. 300 IN CNAME {targets[name]}")

    answer = await ask(dns_peer, handler, "a.example.test", "A")
    assert answer.outcome is DnsOutcome.ERROR
    assert "CNAME loop" in answer.detail


@pytest.mark.parametrize(
    ("lines", "detail"),
    [
        pytest.param(
            [f"example.test. 300 IN A 192.0.2.{i}" for i in range(1, 12)],
            "answer has 11 records, more than 10",
            id="too-many-records",
        ),
        pytest.param(
            [f'example.test. 300 IN TXT "{"x" * 200}" "{i}"' for i in range(3)],
            "TXT answer has 603 bytes, more than 500",
            id="too-many-txt-bytes",
        ),
    ],
)
async def test_oversized_answers_are_errors(
    dns_peer: StartDnsPeer, lines: list[str], detail: str
) -> None:
    """Answers beyond the record or TXT byte bounds are refused as ERROR."""
    rdtype = lines[0].split()[3]
    answer = await ask(
        dns_peer,
        lambda q, t: reply(q, *lines),
        "example.test",
        rdtype,
        limits=DnsLimits(max_records=10, max_txt_bytes=500),
    )
    assert answer.outcome is DnsOutcome.ERROR
    assert answer.detail == detail
    assert answer.records == ()


@pytest.mark.parametrize(
    ("handler", "validating", "dnssec"),
    [
        pytest.param(
            lambda q, t: reply(q, "example.test. 300 IN A 192.0.2.1", ad=True),
            False,
            Dnssec.SECURE,
            id="ad-is-secure",
        ),
        pytest.param(
            lambda q, t: reply(q, rcode=dns.rcode.NXDOMAIN, authority=(SOA,), ad=True),
            False,
            Dnssec.SECURE,
            id="authenticated-denial",
        ),
        pytest.param(
            lambda q, t: reply(q, "example.test. 300 IN A 192.0.2.1"),
            False,
            Dnssec.UNKNOWN,
            id="no-ad-unknown",
        ),
        pytest.param(
            lambda q, t: reply(q, "example.test. 300 IN A 192.0.2.1"),
            True,
            Dnssec.INSECURE,
            id="no-ad-from-validator-insecure",
        ),
        pytest.param(
            lambda q, t: reply(q, rcode=dns.rcode.SERVFAIL, ede=dns.edns.EDECode.DNSSEC_BOGUS),
            False,
            Dnssec.BOGUS,
            id="servfail-with-dnssec-ede",
        ),
        pytest.param(
            lambda q, t: reply(q, rcode=dns.rcode.SERVFAIL, ede=dns.edns.EDECode.SIGNATURE_EXPIRED),
            False,
            Dnssec.BOGUS,
            id="servfail-signature-expired",
        ),
        pytest.param(
            lambda q, t: reply(
                q, rcode=dns.rcode.SERVFAIL, ede=dns.edns.EDECode.NO_REACHABLE_AUTHORITY
            ),
            False,
            Dnssec.UNKNOWN,
            id="servfail-other-ede",
        ),
        pytest.param(
            lambda q, t: reply(q, rcode=dns.rcode.SERVFAIL),
            False,
            Dnssec.UNKNOWN,
            id="plain-servfail",
        ),
        pytest.param(
            lambda q, t: (
                reply(q, "example.test. 300 IN A 192.0.2.1")
                if q.flags & dns.flags.CD
                else reply(q, rcode=dns.rcode.SERVFAIL)
            ),
            False,
            Dnssec.BOGUS,
            id="servfail-unless-checking-disabled",
        ),
    ],
)
async def test_dnssec_status(
    dns_peer: StartDnsPeer, handler: Handler, validating: bool, dnssec: Dnssec
) -> None:
    """AD means secure; a DNSSEC-kind SERVFAIL (by EDE or by the CD retry) means bogus."""
    answer = await ask(dns_peer, handler, "example.test", "A", validating=validating)
    assert answer.dnssec is dnssec


async def test_bogus_servfail_stays_servfail_with_detail(dns_peer: StartDnsPeer) -> None:
    """A validation failure keeps the SERVFAIL outcome (no data) and names the EDE."""
    answer = await ask(
        dns_peer,
        lambda q, t: reply(q, rcode=dns.rcode.SERVFAIL, ede=dns.edns.EDECode.DNSSEC_BOGUS),
        "example.test",
        "A",
    )
    assert answer.outcome is DnsOutcome.SERVFAIL
    assert answer.records == ()
    assert "extended DNS error 6" in answer.detail


async def test_silent_server_falls_back_to_the_next(dns_peer: StartDnsPeer) -> None:
    """When the first resolver times out, the next one is asked and its answer used."""
    dead = await dns_peer(silent)
    alive = await dns_peer(lambda q, t: reply(q, "example.test. 300 IN A 192.0.2.1"))
    client = DnsClient([dead.address, alive.address], timeout=0.3)
    answer = await client.query("example.test", "A")
    assert answer.ok
    assert (dead.count(), alive.count()) == (1, 1)


async def test_servfail_is_asked_elsewhere_but_not_twice(dns_peer: StartDnsPeer) -> None:
    """SERVFAIL moves on to another resolver; a resolver that said SERVFAIL is not asked again."""
    failing = await dns_peer(lambda q, t: reply(q, rcode=dns.rcode.SERVFAIL))
    answer = await DnsClient([failing.address], tries=3).query("example.test", "A")
    assert answer.outcome is DnsOutcome.SERVFAIL
    assert [s.checking_disabled for s in failing.seen] == [False, True]


async def test_timeouts_use_every_try(dns_peer: StartDnsPeer) -> None:
    """A silent resolver is asked ``tries`` times before the lookup times out."""
    peer = await dns_peer(silent)
    answer = await DnsClient([peer.address], timeout=0.2, tries=2).query("example.test", "A")
    assert answer.outcome is DnsOutcome.TIMEOUT
    assert peer.count() == 2


async def test_each_question_is_asked_once(dns_peer: StartDnsPeer) -> None:
    """Repeated and concurrent identical queries share one exchange; names ignore case."""
    peer = await dns_peer(lambda q, t: reply(q, "example.test. 300 IN A 192.0.2.1"))
    client = DnsClient([peer.address])
    first = await asyncio.gather(*(client.query("example.test", "A") for _ in range(5)))
    again = await client.query("EXAMPLE.test.", "a")
    other = await client.query("example.test", "AAAA")
    assert {answer.records for answer in (*first, again)} == {("192.0.2.1",)}
    assert peer.count(transport="udp") == 2
    assert other.outcome is DnsOutcome.NODATA


@pytest.mark.parametrize(
    ("name", "rdtype"),
    [
        pytest.param("a" * 64 + ".example.test", "A", id="label-too-long"),
        pytest.param("example.test", "NOSUCHTYPE", id="unknown-type"),
        pytest.param("a..b", "A", id="empty-label"),
    ],
)
async def test_invalid_questions_are_errors_without_traffic(
    dns_peer: StartDnsPeer, name: str, rdtype: str
) -> None:
    """A question that cannot be asked is an ERROR and sends nothing."""
    peer = await dns_peer(silent)
    answer = await DnsClient([peer.address]).query(name, rdtype)
    assert answer.outcome is DnsOutcome.ERROR
    assert answer.detail.startswith("invalid query")
    assert peer.count() == 0


async def test_unicode_names_are_asked_as_a_labels(dns_peer: StartDnsPeer) -> None:
    """IDNs are converted with IDNA 2008 (``faß`` stays distinct from ``fass``)."""
    peer = await dns_peer(lambda q, t: reply(q, authority=(SOA,)))
    answer = await DnsClient([peer.address]).query("faß.example.test", "MX")
    assert answer.name == "xn--fa-hia.example.test"
    assert peer.seen[0].name == "xn--fa-hia.example.test"

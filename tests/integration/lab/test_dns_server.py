"""The lab DNS server over real sockets: every fault observed with plain dnspython queries."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from mailshield.lab.dns_server import DnsServer, Responder
from mailshield.lab.scenario import parse_scenario
from mailshield.lab.zones import build_zones

HOST = "127.0.1.2"
SLOW = 1.5  # seconds of injected latency; only ever compared with a much shorter or longer wait

SCENARIO = f"""
[domains."faults.test"]
records = [
  '@ TXT "v=spf1 " "ip4:127.0.1.25 " "-all"',
  '_dmarc TXT "v=DMARC1; p=reject"',
  '_dmarc TXT "v=DMARC1; p=none"',
  'chain CNAME hop1',
  'hop1 CNAME hop2.other.test.',
  'loop1 CNAME loop2',
  'loop2 CNAME loop1',
  'many TXT "{"a" * 200}"',
  'many TXT "{"b" * 200}"',
  'many TXT "{"c" * 200}"',
  'timeout TXT "never seen"',
  'truncated TXT "only over TCP"',
  'slow TXT "late"',
  'slow A 127.0.1.30',
  'fast TXT "early"',
]
mx = [{{ name = "mx", addresses = ["127.0.1.25"] }}]
faults = [
  {{ name = "timeout", action = "timeout" }},
  {{ name = "servfail", action = "servfail" }},
  {{ name = "refused", action = "refused" }},
  {{ name = "truncated", action = "truncate" }},
  {{ name = "slow", type = "TXT", latency_ms = {SLOW * 1000} }},
  {{ name = "huge", type = "TXT", action = "oversize", size = 9000 }},
]

[domains."other.test"]
records = ['hop2 TXT "end of chain"']
"""


@pytest.fixture
async def server() -> AsyncIterator[DnsServer]:
    scenario = parse_scenario(SCENARIO)
    responder = Responder(build_zones(scenario), scenario.faults)
    async with DnsServer(responder, HOST, 0) as running:
        yield running


async def ask(
    server: DnsServer,
    name: str,
    rdtype: str = "TXT",
    *,
    tcp: bool = False,
    wait: float = 5.0,
    payload: int | None = None,
) -> dns.message.Message:
    """One query to the server over UDP (or TCP), optionally with EDNS ``payload``."""
    query = dns.message.make_query(name, rdtype, use_edns=payload is not None, payload=payload or 0)
    host, port = server.address
    if tcp:
        return await dns.asyncquery.tcp(query, host, port=port, timeout=wait)
    return await dns.asyncquery.udp(query, host, port=port, timeout=wait)


def texts(response: dns.message.Message) -> list[tuple[bytes, ...]]:
    """The strings of every TXT record in the answer, one tuple per record, sorted."""
    return sorted(
        rdata.strings  # type: ignore[attr-defined]
        for rrset in response.answer
        if rrset.rdtype == dns.rdatatype.TXT
        for rdata in rrset
    )


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
async def test_answers_are_authoritative_over_udp_and_tcp(server: DnsServer, tcp: bool) -> None:
    """A plain query is answered with AA set and the record, over both transports."""
    response = await ask(server, "faults.test", tcp=tcp)
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    assert texts(response) == [(b"v=spf1 ", b"ip4:127.0.1.25 ", b"-all")]


async def test_split_txt_keeps_its_strings(server: DnsServer) -> None:
    """A TXT record written as several strings arrives as several strings."""
    response = await ask(server, "faults.test")
    assert len(texts(response)[0]) == 3


async def test_multiple_txt_records_stay_separate(server: DnsServer) -> None:
    """Two TXT records at one name arrive as two records."""
    response = await ask(server, "_dmarc.faults.test")
    assert texts(response) == [(b"v=DMARC1; p=none",), (b"v=DMARC1; p=reject",)]


@pytest.mark.parametrize(("name", "rcode"), [
    pytest.param("servfail.faults.test", dns.rcode.SERVFAIL, id="servfail"),
    pytest.param("refused.faults.test", dns.rcode.REFUSED, id="refused"),
    pytest.param("nothing.faults.test", dns.rcode.NXDOMAIN, id="nxdomain"),
    pytest.param("www.example.com", dns.rcode.REFUSED, id="not-served"),
])  # fmt: skip
@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
async def test_error_rcodes(
    server: DnsServer, name: str, rcode: dns.rcode.Rcode, tcp: bool
) -> None:
    """SERVFAIL and REFUSED faults, a missing name and a foreign name give their rcodes."""
    response = await ask(server, name, tcp=tcp)
    assert response.rcode() == rcode


async def test_nodata_carries_the_soa(server: DnsServer) -> None:
    """A name without the asked type gets NOERROR, no answer and the zone's SOA."""
    response = await ask(server, "fast.faults.test", "MX")
    assert response.rcode() == dns.rcode.NOERROR
    assert not response.answer
    assert [r.rdtype for r in response.authority] == [dns.rdatatype.SOA]


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
async def test_timeout_fault_never_answers(server: DnsServer, tcp: bool) -> None:
    """A query for a name with the timeout fault gets no answer at all."""
    with pytest.raises(dns.exception.Timeout):
        await ask(server, "timeout.faults.test", tcp=tcp, wait=0.3)


async def test_truncate_fault_forces_tcp(server: DnsServer) -> None:
    """Over UDP the answer is empty with TC set; a client falling back to TCP gets the record."""
    udp = await ask(server, "truncated.faults.test")
    assert udp.flags & dns.flags.TC
    assert not udp.answer
    query = dns.message.make_query("truncated.faults.test", "TXT")
    host, port = server.address
    response, used_tcp = await dns.asyncquery.udp_with_fallback(query, host, port=port, timeout=5)
    assert used_tcp
    assert texts(response) == [(b"only over TCP",)]
    assert server.counts["tcp"] == 1


async def test_answer_bigger_than_512_bytes_is_truncated_over_udp(server: DnsServer) -> None:
    """Records too big for a 512-byte UDP reply come with TC; with EDNS 4096 or TCP they fit."""
    plain = await ask(server, "many.faults.test")
    assert plain.flags & dns.flags.TC
    for response in (
        await ask(server, "many.faults.test", payload=4096),
        await ask(server, "many.faults.test", tcp=True),
    ):
        assert not response.flags & dns.flags.TC
        assert len(texts(response)) == 3


async def test_oversize_fault_exceeds_any_udp_size(server: DnsServer) -> None:
    """The oversize fault pads the answer past EDNS 4096; over TCP all the filler arrives."""
    udp = await ask(server, "huge.faults.test", payload=4096)
    assert udp.flags & dns.flags.TC
    response = await ask(server, "huge.faults.test", tcp=True)
    assert response.rcode() == dns.rcode.NOERROR
    assert sum(len(s) for strings in texts(response) for s in strings) >= 9000


async def test_cname_chain_is_followed_across_served_zones(server: DnsServer) -> None:
    """A CNAME chain into another served zone arrives whole, with the final record."""
    response = await ask(server, "chain.faults.test")
    assert [r.rdtype for r in response.answer] == [
        dns.rdatatype.CNAME,
        dns.rdatatype.CNAME,
        dns.rdatatype.TXT,
    ]
    assert texts(response) == [(b"end of chain",)]


async def test_cname_loop_is_answered_with_the_loop(server: DnsServer) -> None:
    """A CNAME loop is answered with both CNAMEs and nothing else (a client must detect it)."""
    response = await ask(server, "loop1.faults.test", "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert [r.name.to_text() for r in response.answer] == [
        "loop1.faults.test.",
        "loop2.faults.test.",
    ]


async def test_latency_delays_the_answer(server: DnsServer) -> None:
    """An answer with injected latency misses a short deadline and meets a long one."""
    with pytest.raises(dns.exception.Timeout):
        await ask(server, "slow.faults.test", wait=SLOW / 5)
    response = await ask(server, "slow.faults.test", wait=SLOW * 10)
    assert texts(response) == [(b"late",)]


async def test_latency_is_per_type(server: DnsServer) -> None:
    """A fault limited to TXT leaves other types of the name undelayed."""
    response = await ask(server, "slow.faults.test", "A", wait=SLOW / 2)
    assert response.answer


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
async def test_latency_does_not_hold_up_other_queries(server: DnsServer, tcp: bool) -> None:
    """While a delayed answer is pending, other queries are answered at once."""
    slow = asyncio.create_task(ask(server, "slow.faults.test", tcp=tcp, wait=SLOW * 10))
    fast = await ask(server, "fast.faults.test", tcp=tcp, wait=SLOW / 2)
    assert texts(fast) == [(b"early",)]
    assert not slow.done()
    assert texts(await slow) == [(b"late",)]


async def test_global_latency_delays_every_answer() -> None:
    """The lab-wide latency applies to every answer."""
    scenario = parse_scenario('[domains."g.test"]\nrecords = [\'@ TXT "x"\']\n')
    responder = Responder(build_zones(scenario), latency=SLOW)
    async with DnsServer(responder, HOST, 0) as slow_server:
        with pytest.raises(dns.exception.Timeout):
            await ask(slow_server, "g.test", wait=SLOW / 5)
        assert (await ask(slow_server, "g.test", wait=SLOW * 10)).answer


async def test_tcp_answers_out_of_order_on_one_connection(server: DnsServer) -> None:
    """On one TCP connection the undelayed answer comes first (RFC 7766 §6.2.1.1)."""
    host, port = server.address
    reader, writer = await asyncio.open_connection(host, port)
    slow = dns.message.make_query("slow.faults.test", "TXT")
    fast = dns.message.make_query("fast.faults.test", "TXT")
    for query in (slow, fast):
        wire = query.to_wire()
        writer.write(len(wire).to_bytes(2, "big") + wire)
    answers = []
    for _ in range(2):
        length = int.from_bytes(await reader.readexactly(2), "big")
        answers.append(dns.message.from_wire(await reader.readexactly(length)).id)
    writer.close()
    await writer.wait_closed()
    assert answers == [fast.id, slow.id]


async def test_malformed_query_gets_formerr(server: DnsServer) -> None:
    """Bytes that are not a DNS message but have a header get FORMERR with the same ID."""
    host, port = server.address
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        await loop.sock_connect(sock, (host, port))
        await loop.sock_sendall(sock, b"\x12\x34" + b"\x01\x00\x00\x01" + b"\xff" * 12)
        reply = dns.message.from_wire(await asyncio.wait_for(loop.sock_recv(sock, 512), 5))
    assert reply.id == 0x1234
    assert reply.rcode() == dns.rcode.FORMERR


async def test_close_releases_the_port(server: DnsServer) -> None:
    """After close, the UDP and TCP port can be bound again."""
    host, port = server.address
    await server.close()
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))


async def test_tcp_delayed_answer_follows_a_half_close(server: DnsServer) -> None:
    """A client that stops sending still gets its delayed answer, then the connection closes."""
    host, port = server.address
    reader, writer = await asyncio.open_connection(host, port)
    query = dns.message.make_query("slow.faults.test", "TXT")
    wire = query.to_wire()
    writer.write(len(wire).to_bytes(2, "big") + wire)
    writer.write_eof()
    length = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), SLOW * 10), "big")
    assert dns.message.from_wire(await reader.readexactly(length)).id == query.id
    assert await asyncio.wait_for(reader.read(), SLOW * 10) == b""
    writer.close()


async def test_tcp_query_split_across_segments(server: DnsServer) -> None:
    """A query arriving a byte at a time is answered once it is complete."""
    host, port = server.address
    reader, writer = await asyncio.open_connection(host, port)
    query = dns.message.make_query("fast.faults.test", "TXT")
    framed = len(query.to_wire()).to_bytes(2, "big") + query.to_wire()
    for index in range(len(framed)):
        writer.write(framed[index : index + 1])
        await writer.drain()
    length = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), 5), "big")
    assert dns.message.from_wire(await reader.readexactly(length)).id == query.id
    writer.close()
    await writer.wait_closed()


async def test_close_ends_open_tcp_connections(server: DnsServer) -> None:
    """Closing the server closes the TCP connections clients still hold."""
    host, port = server.address
    reader, writer = await asyncio.open_connection(host, port)
    query = dns.message.make_query("fast.faults.test", "TXT").to_wire()
    writer.write(len(query).to_bytes(2, "big") + query)
    await reader.readexactly(int.from_bytes(await reader.readexactly(2), "big"))  # the answer
    await server.close()
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()

"""Reading DNS responses into observations, and resolver configuration, without a network."""

from pathlib import Path

import dns.exception
import dns.message
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.dns_wire import WireMessage, decode_message, wire_name_text
from mailshield.core.dns_wire_codes import TYPE_A, TYPE_CNAME
from mailshield.core.observations import DnsOutcome, Dnssec
from mailshield.probes.dns import Nameserver, _combine, _Name, system_nameservers
from mailshield.probes.dns_answer import DnsLimits, read_response

QNAME = "a.example.test"


def response(text: str) -> WireMessage:
    """A response written as dnspython message text, decoded from its wire form."""
    return decode_message(dns.message.from_text("id 1\nopcode QUERY\n" + text).to_wire())


@pytest.mark.parametrize(
    ("text", "outcome", "cnames", "restart"),
    [
        pytest.param(
            "rcode NOERROR\n;ANSWER\na.example.test. 60 IN A 192.0.2.1\n",
            DnsOutcome.OK,
            (),
            None,
            id="direct",
        ),
        pytest.param(
            "rcode NOERROR\n;ANSWER\na.example.test. 60 IN CNAME b.example.test.\n",
            DnsOutcome.NODATA,
            ("b.example.test",),
            "b.example.test",
            id="unchased-cname-restarts",
        ),
        pytest.param(
            "rcode NOERROR\n;ANSWER\na.example.test. 60 IN CNAME b.example.test.\n"
            ";AUTHORITY\nexample.test. 60 IN SOA ns. h. 1 2 3 4 5\n",
            DnsOutcome.NODATA,
            ("b.example.test",),
            None,
            id="cname-to-nodata",
        ),
        pytest.param(
            "rcode NOERROR\n;ANSWER\nunrelated.test. 60 IN A 192.0.2.1\n",
            DnsOutcome.NODATA,
            (),
            None,
            id="records-for-another-name-ignored",
        ),
        pytest.param("rcode NXDOMAIN\n", DnsOutcome.NXDOMAIN, (), None, id="nxdomain"),
        pytest.param("rcode NOTIMP\n", DnsOutcome.ERROR, (), None, id="notimp"),
    ],
)
def test_read_response(
    text: str, outcome: DnsOutcome, cnames: tuple[str, ...], restart: str | None
) -> None:
    """A response yields an outcome, the CNAME targets it went through and any restart name."""
    step = read_response(response(text), QNAME, TYPE_A)
    assert step.outcome is outcome
    assert step.cnames == cnames
    assert step.restart == restart


def test_cname_question_returns_the_cname_itself() -> None:
    """Asking for CNAME does not follow it."""
    text = "rcode NOERROR\n;ANSWER\na.example.test. 60 IN CNAME B.example.test.\n"
    step = read_response(response(text), QNAME, TYPE_CNAME)
    assert step.records == ("b.example.test",)
    assert step.cnames == ()


def test_loop_through_already_visited_names_is_an_error() -> None:
    """A target seen in an earlier response of the same lookup is a loop."""
    text = "rcode NOERROR\n;ANSWER\nb.example.test. 60 IN CNAME a.example.test.\n"
    visited = (QNAME, "b.example.test")
    step = read_response(response(text), visited[1], TYPE_A, visited=visited)
    assert step.outcome is DnsOutcome.ERROR
    assert step.detail == "CNAME loop: b.example.test points back to a.example.test"


@pytest.mark.parametrize(
    ("statuses", "combined"),
    [
        pytest.param([Dnssec.SECURE, Dnssec.SECURE], Dnssec.SECURE, id="all-secure"),
        pytest.param([Dnssec.SECURE, Dnssec.INSECURE], Dnssec.INSECURE, id="one-insecure"),
        pytest.param([Dnssec.SECURE, Dnssec.UNKNOWN], Dnssec.UNKNOWN, id="one-unknown"),
        pytest.param([Dnssec.SECURE, Dnssec.BOGUS], Dnssec.BOGUS, id="one-bogus"),
        pytest.param([], Dnssec.UNKNOWN, id="none"),
    ],
)
def test_chain_status_is_the_weakest_step(statuses: list[Dnssec], combined: Dnssec) -> None:
    """A lookup across several responses is only as secure as its weakest response."""
    assert _combine(statuses) is combined


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("192.0.2.53", Nameserver("192.0.2.53", 53), id="ipv4"),
        pytest.param("127.0.4.1:5353", Nameserver("127.0.4.1", 5353), id="ipv4-port"),
        pytest.param("::1", Nameserver("::1", 53), id="ipv6"),
        pytest.param("[2001:DB8::1]:5300", Nameserver("2001:db8::1", 5300), id="ipv6-port"),
        pytest.param(" 9.9.9.9 ", Nameserver("9.9.9.9", 53), id="spaces"),
    ],
)
def test_nameserver_parse(text: str, expected: Nameserver) -> None:
    """Resolvers are written IP or IP:PORT, IPv6 with a port in brackets."""
    assert Nameserver.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("dns.google", id="a-name-needs-the-host-resolver"),
        pytest.param("127.0.0.1:0", id="port-zero"),
        pytest.param("127.0.0.1:99999", id="port-too-big"),
        pytest.param("127.0.0.1:x", id="port-not-a-number"),
        pytest.param("", id="empty"),
    ],
)
def test_nameserver_parse_refuses(text: str) -> None:
    """Anything but an IP literal and a valid port is refused."""
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies with the input
        Nameserver.parse(text)


@given(st.text(max_size=40))
def test_nameserver_parse_raises_only_value_error(text: str) -> None:
    """For any text, parsing returns a Nameserver or raises ValueError."""
    try:
        parsed = Nameserver.parse(text)
    except ValueError:
        return
    assert Nameserver.parse(str(parsed)) == parsed


def test_system_nameservers_reads_resolv_conf(tmp_path: Path) -> None:
    """The nameserver lines are read in order; comments, options and scope ids are skipped."""
    conf = tmp_path / "resolv.conf"
    conf.write_text(
        "# generated\nsearch example.test\nnameserver 192.0.2.53\n"
        "options edns0\nnameserver fe80::1%eth0\nnameserver\n"
    )
    assert system_nameservers(conf) == ["192.0.2.53", "fe80::1"]


def test_system_nameservers_missing_file_is_empty(tmp_path: Path) -> None:
    """No resolv.conf means no default resolvers (the caller must configure some)."""
    assert system_nameservers(tmp_path / "absent") == []


NAMES = st.sampled_from(["a.example.test.", "b.example.test.", "c.example.test."])


@given(
    st.lists(st.tuples(NAMES, NAMES), max_size=6),
    st.sampled_from(["NOERROR", "NXDOMAIN", "SERVFAIL"]),
)
def test_read_response_never_raises_on_any_cname_graph(
    edges: list[tuple[str, str]], rcode: str
) -> None:
    """Any tangle of CNAMEs gives a step (possibly an error), never an exception or a hang."""
    lines = "".join(f"{owner} 60 IN CNAME {target}\n" for owner, target in edges)
    step = read_response(
        response(f"rcode {rcode}\n;ANSWER\n{lines}"),
        QNAME,
        TYPE_A,
        limits=DnsLimits(max_cname_chain=4),
    )
    assert len(step.cnames) <= 4


@given(st.lists(st.sampled_from([*"aZ09-_.*\\ éß", "xn--fa-hia"]), max_size=20).map("".join))
def test_question_name_text_is_the_wire_names_text(text: str) -> None:
    """Whatever path a question name takes, its text is the text its wire form reads as."""
    try:
        name = _Name.from_text(text)
    except (ValueError, UnicodeError, dns.exception.DNSException):
        return
    assert name.text == wire_name_text(name.wire)

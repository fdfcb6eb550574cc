"""RFC 2136 dynamic updates signed with TSIG (RFC 8945), for the delegated ``_mta-sts`` TXT.

:class:`DnsUpdater` sends one UPDATE message per change over TCP to the operator's primary
server. A replacement deletes the TXT RRset at the owner and adds the new record in the same
message, which the server applies atomically (RFC 2136 §3.4), so resolvers never see the name
without a record or with two ids. dnspython exceptions and response codes are translated into
:class:`~mailshield.core.hosting.model.UpdateOutcome` values in :meth:`DnsUpdater._send` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tsig
import dns.update

from mailshield.core.hosting.model import UpdateOutcome, UpdateResult
from mailshield.core.hosting.records import quote_txt
from mailshield.probes.dns import Nameserver

__all__ = ["DnsUpdater", "TsigCredentials"]

_RCODES = {
    dns.rcode.NOERROR: UpdateOutcome.OK,
    dns.rcode.REFUSED: UpdateOutcome.REFUSED,
    dns.rcode.NOTAUTH: UpdateOutcome.NOT_AUTHORISED,
    dns.rcode.NOTZONE: UpdateOutcome.NOT_ZONE,
}


@dataclass(frozen=True, slots=True)
class TsigCredentials:
    """A TSIG key shared with the primary server: name, base64 secret and HMAC algorithm."""

    name: str
    secret: str
    algorithm: str = "hmac-sha256"

    def key(self) -> dns.tsig.Key:
        return dns.tsig.Key(self.name, self.secret, self.algorithm)


class DnsUpdater:
    """Writes TXT records in ``zone`` on ``server`` (``IP[:PORT]``), signed with ``tsig``."""

    def __init__(
        self, server: str, zone: str, tsig: TsigCredentials, *, timeout: float = 10.0
    ) -> None:
        self._server = Nameserver.parse(server)
        self._zone = dns.name.from_text(zone)
        self._tsig = tsig
        self._timeout = timeout

    async def replace_txt(self, owner: str, text: str, ttl: int) -> UpdateResult:
        """Make ``text`` the only TXT record at ``owner`` (delete and add in one update)."""
        rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, quote_txt(text))
        update = self._message()
        update.replace(self._owner(owner), ttl, rdata)
        return await self._send(update)

    async def delete_txt(self, owner: str) -> UpdateResult:
        """Remove the TXT RRset at ``owner`` (nothing to remove is success too, RFC 2136 §3.4.2)."""
        update = self._message()
        update.delete(self._owner(owner), dns.rdatatype.TXT)
        return await self._send(update)

    def _message(self) -> dns.update.UpdateMessage:
        keyring = self._tsig.key()
        return dns.update.UpdateMessage(self._zone, keyring=keyring, keyname=keyring.name)

    def _owner(self, owner: str) -> dns.name.Name:
        name = dns.name.from_text(owner)
        if not name.is_subdomain(self._zone):
            raise ValueError(f"{owner} is not inside the zone {self._zone}")
        return name

    async def _send(self, update: dns.update.UpdateMessage) -> UpdateResult:
        server = self._server
        try:
            response = await dns.asyncquery.tcp(
                update, server.address, timeout=self._timeout, port=server.port
            )
        except dns.tsig.PeerBadKey as exc:
            return UpdateResult(UpdateOutcome.BAD_KEY, f"{server}: {exc}")
        except (dns.tsig.PeerBadSignature, dns.tsig.BadSignature) as exc:
            return UpdateResult(UpdateOutcome.BAD_SIGNATURE, f"{server}: {exc}")
        except dns.exception.FormError as exc:
            if "TSIG" not in str(exc):
                return UpdateResult(UpdateOutcome.ERROR, f"{server}: malformed answer: {exc}")
            # An unsigned answer to a signed update: the server is not authoritative for the zone
            # (it answers NOTAUTH without a TSIG record, RFC 8945 §5.2).
            detail = f"{server} answered without TSIG: it does not take updates for {self._zone}"
            return UpdateResult(UpdateOutcome.NOT_AUTHORISED, detail)
        except dns.exception.Timeout:
            return UpdateResult(UpdateOutcome.TIMEOUT, f"{server}: no answer in {self._timeout} s")
        except (dns.exception.DNSException, OSError, EOFError) as exc:
            return UpdateResult(UpdateOutcome.ERROR, f"{server}: {type(exc).__name__}: {exc}")
        return _result(response, server)


def _result(response: dns.message.Message, server: Nameserver) -> UpdateResult:
    rcode = response.rcode()
    outcome = _RCODES.get(rcode, UpdateOutcome.ERROR)
    detail = "" if outcome is UpdateOutcome.OK else f"{server} answered {dns.rcode.to_text(rcode)}"
    return UpdateResult(outcome, detail)

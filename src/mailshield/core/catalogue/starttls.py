"""Finding codes of the STARTTLS check, per MX address (RFC 3207, RFC 8461 §4, RFC 7672 §3)."""

from mailshield.core.findings import define
from mailshield.core.model import Status

OK = define(
    "starttls.ok",
    Status.PASS,
    "STARTTLS with a valid certificate",
    "{subject} ({address}): {version}, {cipher}; certificate valid for {days_left} more days",
    "RFC 3207",
)
NOT_OFFERED = define(
    "starttls.not_offered",
    Status.FAIL,
    "STARTTLS not offered",
    "{subject} ({address}) completed EHLO without advertising STARTTLS: mail to it travels"
    " in plaintext",
    "RFC 3207 §4",
    "Enable STARTTLS on the MX (Postfix: `smtpd_tls_security_level = may` with a certificate).",
)
FAILED = define(
    "starttls.failed",
    Status.FAIL,
    "STARTTLS failed",
    "{subject} ({address}) advertised STARTTLS but it failed: {reason}",
    "RFC 3207 §4",
    "Make STARTTLS complete on the MX: a certificate and key the server can load and TLS 1.2 or"
    " newer enabled (Postfix: check `smtpd_tls_chain_files` and the mail log).",
)
UNREACHABLE = define(
    "starttls.unreachable",
    Status.ERROR,
    "Could not test STARTTLS",
    "{subject} ({address}) could not be tested: {reason}",
    "RFC 3207",
)
SKIPPED = define(
    "starttls.skipped",
    Status.NOT_APPLICABLE,
    "SMTP probes switched off",
    "STARTTLS was not tested (SMTP probes are off)",
)
TLS_VERSION_OLD = define(
    "starttls.tls_version_old",
    Status.WARN,
    "Outdated TLS version",
    "{subject} ({address}) negotiated {version}; TLS 1.2 or newer is required by MTA-STS senders",
    "RFC 8996, RFC 8461 §5",
    "Enable TLS 1.2 and 1.3 on the MX (Postfix: `smtpd_tls_protocols = >=TLSv1.2`).",
)
CERT_EXPIRED = define(
    "starttls.cert_expired",
    Status.WARN,
    "Certificate expired",
    "{subject} ({address}) presents a certificate that expired on {not_after}",
    "RFC 8461 §4.2, RFC 5280 §4.1.2.5",
    "Renew the MX certificate.",
)
CERT_NOT_YET_VALID = define(
    "starttls.cert_not_yet_valid",
    Status.WARN,
    "Certificate not yet valid",
    "{subject} ({address}) presents a certificate valid only from {not_before}",
    "RFC 5280 §4.1.2.5",
)
CERT_NAME_MISMATCH = define(
    "starttls.cert_name_mismatch",
    Status.WARN,
    "Certificate does not name the MX host",
    "{subject} ({address}) presents a certificate for {names}, not for {subject}",
    "RFC 8461 §4.2, RFC 9525 §6.3",
    "Install a certificate whose subjectAltName includes the MX host name (a wildcard covers "
    "one label).",
)
CERT_UNTRUSTED = define(
    "starttls.cert_untrusted",
    Status.WARN,
    "Certificate not from a trusted CA",
    "{subject} ({address}): {detail}",
    "RFC 8461 §4.2",
    "Use a certificate from a public CA (e.g. Let's Encrypt) and send the full chain.",
)
CERT_EXPIRING = define(
    "starttls.cert_expiring",
    Status.WARN,
    "Certificate expires soon",
    "{subject} ({address}): the certificate expires in {days_left} days ({not_after})",
    "RFC 8461 §4.2",
    "Renew the MX certificate now; automate renewal.",
)
KEY_WEAK = define(
    "starttls.key_weak",
    Status.WARN,
    "Weak certificate key",
    "{subject} ({address}): {key_type} key of {key_bits} bits",
    "RFC 9325 §4.5",
    "Use an RSA key of at least 2048 bits or an ECDSA P-256 key.",
)
INCONSISTENT = define(
    "starttls.inconsistent",
    Status.WARN,
    "Addresses of one MX behave differently",
    "{subject}: its addresses do not present the same TLS behaviour ({detail})",
    "RFC 8461 §4",
)
OFFERED_AFTER_TLS = define(
    "starttls.offered_after_tls",
    Status.WARN,
    "STARTTLS advertised again inside TLS",
    "{subject} ({address}) still advertises STARTTLS after the TLS handshake",
    "RFC 3207 §4.2",
    "Update the MTA: after STARTTLS the server must not advertise it again.",
)

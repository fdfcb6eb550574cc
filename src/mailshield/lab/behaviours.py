"""The behaviours a lab MX host or policy host can be given (names used in scenario files)."""

from __future__ import annotations

import enum


class MxBehaviour(enum.StrEnum):
    VALID = "valid"  # STARTTLS with a certificate for the MX name from the lab CA
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    WRONG_NAME = "wrong_name"  # certificate names another host
    SELF_SIGNED = "self_signed"
    UNTRUSTED_CA = "untrusted_ca"  # chains to a CA the checker does not trust
    TLS_OLD = "tls_old"  # offers TLS 1.0/1.1 only (where the local OpenSSL allows it)
    NO_STARTTLS = "no_starttls"  # STARTTLS not advertised in EHLO
    STARTTLS_FAILS = "starttls_fails"  # advertised, but the command is answered 454
    REFUSED = "refused"  # nothing listens: connection refused
    TARPIT = "tarpit"  # banner only after a long delay
    GREETING_421 = "greeting_421"  # "421 service not available" greeting, then close
    ENDLESS_BANNER = "endless_banner"  # "220-" continuation lines that never end


class PolicyBehaviour(enum.StrEnum):
    VALID = "valid"  # 200 text/plain with the policy
    REDIRECT = "redirect"  # 301 to a URL that serves a valid policy
    NOT_FOUND = "not_found"  # 404
    SERVER_ERROR = "server_error"  # 500
    HTML = "html"  # 200 but Content-Type text/html
    OVERSIZE = "oversize"  # 200 with a body over 64 KiB
    SLOW = "slow"  # headers, then a body that trickles slower than any sane timeout
    WRONG_CERT = "wrong_cert"  # certificate for another name
    NO_LISTENER = "no_listener"  # nothing listens on 443

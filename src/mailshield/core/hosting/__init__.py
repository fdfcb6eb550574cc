"""Hosted MTA-STS, the pure rules: one module per idea, each rule citing its RFC section.

- :mod:`.model`: setups, states, policy versions, record checks, a hosted domain.
- :mod:`.proposal`: a policy proposed from the live MX set; validation of edits (RFC 8461 §3.2).
- :mod:`.ids`: policy ids, new on every body change and never reused (§3.1).
- :mod:`.records`: the records to publish, in zone-file form (§3.1, §8.2; RFC 8460 §3).
- :mod:`.verify`: what DNS shows against what it should show.
- :mod:`.state`: the state machine of a hosted domain.
- :mod:`.rollout`: body first, then id (§8.1).
- :mod:`.gate`: the testing → enforce gate from a check report (§4, §5).
- :mod:`.drift`: the MX drift guard (§4.1).
- :mod:`.removal`: serving ``mode: none`` and the earliest safe deletion time (§8.3).
"""

"""The findings catalogue: every finding code, defined once, with its meaning and RFC section.

Protocol modules under :mod:`mailshield.core.catalogue` call :func:`define`; evaluators build
findings with :func:`finding`. ``docs/checks.md`` is generated from :func:`catalogue`
(``scripts/gen-checks-doc``) and a test keeps the two in sync.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mailshield.core.model import Finding, JSONValue, Status


@dataclass(frozen=True, slots=True)
class FindingSpec:
    """The definition of one finding code."""

    code: str
    status: Status  # the usual status; an evaluator may choose another (e.g. warn in testing)
    title: str  # what it means, in a few words
    message: str  # a str.format template over the finding's params
    rfc: str = ""  # where the rule lives, e.g. "RFC 8461 §3.1"
    fix: str = ""  # generic advice; evaluators pass a concrete fix when they can build one


_REGISTRY: dict[str, FindingSpec] = {}


def define(
    code: str, status: Status, title: str, message: str, rfc: str = "", fix: str = ""
) -> FindingSpec:
    """Register a finding code; a code may be defined only once."""
    if code in _REGISTRY:
        raise ValueError(f"finding code defined twice: {code}")
    spec = FindingSpec(code, status, title, message, rfc, fix)
    _REGISTRY[code] = spec
    return spec


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def finding(
    spec: FindingSpec,
    subject: str = "",
    *,
    status: Status | None = None,
    fix: str | None = None,
    **params: JSONValue,
) -> Finding:
    """A finding of ``spec`` about ``subject``, its message rendered from ``params``."""
    message = spec.message.format_map(_Lenient(params, subject=subject))
    return Finding(
        code=spec.code,
        status=status or spec.status,
        subject=subject,
        params=params,
        message=message,
        fix=fix if fix is not None else (spec.fix or None),
    )


def catalogue() -> Mapping[str, FindingSpec]:
    """Every defined finding code (imports all catalogue modules first)."""
    from mailshield.core import catalogue as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
    return dict(sorted(_REGISTRY.items()))

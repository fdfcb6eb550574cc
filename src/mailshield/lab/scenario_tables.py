"""Typed access to the tables of a parsed scenario file, with errors that say where.

Every read names the key; every error names the table (``domain 'a.test', key 'mx[0]'``) and the
key at fault; :meth:`Table.finish` reports keys nobody read, so a typo is an error, not a no-op.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

_E = TypeVar("_E", bound=enum.StrEnum)


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names the domain and the key at fault."""


class Table:
    """A TOML table read key by key; unknown keys are reported by :meth:`finish`."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise ScenarioError(f"{where}: expected a table, got {type(data).__name__}")
        self.data: Mapping[str, Any] = data
        self.where = where
        self._used: set[str] = set()

    @property
    def keys(self) -> list[str]:
        return list(self.data)

    def _get(self, key: str, kinds: type | tuple[type, ...], what: str, required: bool) -> Any:
        self._used.add(key)
        if key not in self.data:
            if required:
                raise ScenarioError(f"{self.where}: key '{key}' is required")
            return None
        value = self.data[key]
        # bool is an int subclass: never accept true/false where a number is meant.
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _tuple(kinds)):
            raise ScenarioError(
                f"{self.where}: key '{key}': expected {what}, got {type(value).__name__}"
            )
        return value

    def string(self, key: str, default: Any = None, *, required: bool = False) -> Any:
        value = self._get(key, str, "a string", required)
        return default if value is None else value

    def integer(self, key: str, default: int | None) -> int | None:
        value = self._get(key, int, "an integer", False)
        return default if value is None else int(value)

    def port(self, key: str, default: int) -> int:
        value = self.integer(key, default)
        if value is None or not 0 <= value <= 65535:
            raise ScenarioError(f"{self.where}: key '{key}': a port is between 0 and 65535")
        return value

    def number(self, key: str, default: float) -> float:
        value = self._get(key, (int, float), "a number", False)
        if value is not None and value < 0:
            raise ScenarioError(f"{self.where}: key '{key}': must not be negative")
        return default if value is None else float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, bool, "true or false", False)
        return default if value is None else bool(value)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._get(key, list, "a list of strings", False) or []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise ScenarioError(
                    f"{self.where}: key '{key}[{index}]': expected a string, "
                    f"got {type(item).__name__}"
                )
        return tuple(value)

    def choice(self, key: str, kind: type[_E], default: _E) -> _E:
        value = self.string(key, None)
        if value is None:
            return default
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            raise ScenarioError(
                f"{self.where}: key '{key}': {value!r} is not one of: {allowed}"
            ) from None

    def table(self, key: str, *, required: bool = False, where: str | None = None) -> Table:
        value = self._get(key, dict, "a table", required)
        return Table(value or {}, where or f"{self.where}, key '{key}'")

    def tables(self, key: str) -> list[Table]:
        value = self._get(key, list, "a list of tables", False) or []
        return [Table(item, f"{self.where}, key '{key}[{i}]'") for i, item in enumerate(value)]

    def finish(self) -> None:
        unknown = [key for key in self.data if key not in self._used]
        if unknown:
            known = ", ".join(sorted(self._used))
            raise ScenarioError(f"{self.where}: unknown key '{unknown[0]}' (known keys: {known})")


def _tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)

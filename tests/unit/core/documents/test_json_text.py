"""I-JSON loading: duplicate member names, depth cap, refused constants, surrogate repair."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.documents.json_text import JsonProblem, LoadedJson, exceeds_depth, load_json

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\[]{}:,'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=20,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    return 0


@pytest.mark.parametrize(
    ("text", "value", "duplicates"),
    [
        pytest.param('{"a": 1, "b": 2}', {"a": 1, "b": 2}, [], id="plain-object"),
        pytest.param('{"a": 1, "a": 2}', {"a": 1}, ["a"], id="duplicate-first-wins"),
        pytest.param('[{"k": 1, "k": 1, "k": 3}]', [{"k": 1}], ["k", "k"], id="triplicate"),
        pytest.param('{"a": {"x": 1, "x": 2}}', {"a": {"x": 1}}, ["x"], id="nested-duplicate"),
    ],
)
def test_load_json_keeps_the_first_duplicate(text: str, value: Any, duplicates: list[str]) -> None:
    """Duplicate member names (forbidden by RFC 7493 §2.3) keep their first value and are listed."""
    loaded = load_json(text, 8)
    assert isinstance(loaded, LoadedJson)
    assert (loaded.value, loaded.duplicate_keys) == (value, duplicates)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("", "bad_json", id="empty"),
        pytest.param("{", "bad_json", id="unterminated"),
        pytest.param("[NaN]", "bad_json", id="nan"),
        pytest.param("-Infinity", "bad_json", id="infinity"),
        pytest.param("9" * 5000, "bad_json", id="integer-beyond-int-max-str-digits"),
        pytest.param("[" * 50 + "]" * 50, "too_deep", id="deeper-than-cap"),
        pytest.param("[" * 100_000, "too_deep", id="deeper-than-the-interpreter"),
    ],
)
def test_load_json_refuses(text: str, reason: str) -> None:
    """Invalid or too deeply nested text is a problem value with a stable reason."""
    problem = load_json(text, 32)
    assert isinstance(problem, JsonProblem)
    assert problem.reason == reason


def test_load_json_accepts_nesting_at_the_cap() -> None:
    """Nesting of exactly ``max_depth`` levels is accepted."""
    assert isinstance(load_json("[" * 32 + "]" * 32, 32), LoadedJson)


def test_load_json_repairs_lone_surrogates() -> None:
    """An unpaired surrogate escape becomes '?', so every string encodes as UTF-8."""
    loaded = load_json('{"a": "x\\ud800y", "b": ["\\udfff"], "ok": "\\ud83d\\ude00"}', 8)
    assert isinstance(loaded, LoadedJson)
    assert loaded.value == {"a": "x?y", "b": ["?"], "ok": "\U0001f600"}
    assert loaded.lone_surrogates == 2


@given(JSON_VALUES, st.integers(min_value=0, max_value=6))
def test_exceeds_depth_matches_the_true_depth(value: Any, cap: int) -> None:
    """The bracket-peeling depth check agrees with a recursive walk of the parsed value."""
    assert exceeds_depth(json.dumps(value), cap) == (_depth(value) > cap)


@given(st.text(max_size=200))
def test_load_json_never_raises(text: str) -> None:
    """Any text gives a value or a problem, never an exception."""
    assert isinstance(load_json(text, 8), LoadedJson | JsonProblem)

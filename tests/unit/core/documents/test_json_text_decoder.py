"""The shared decoder of ``load_json`` gives what one decoder per call gave, on any text."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.documents.json_text import JsonProblem, LoadedJson, exceeds_depth, load_json

MAX_DEPTH = 4
_SCALARS = st.sampled_from(["1", "-2.5e3", '"x"', '"\\ud800"', "true", "null", "NaN", "1e999"])
_NAMES = st.sampled_from(['"a"', '"b"', '"a"', '"\\u0061"', '""'])


def _texts(depth: int) -> st.SearchStrategy[str]:
    """JSON-like texts with repeated names, deep nesting and a few broken pieces."""
    if depth == 0:
        return _SCALARS
    inner = _texts(depth - 1)
    members = st.lists(st.tuples(_NAMES, inner), max_size=4)
    objects = members.map(lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}")
    arrays = st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]")
    return st.one_of(_SCALARS, objects, arrays)


_DOCUMENTS = st.tuples(
    st.sampled_from(["", " ", "\ufeff"]), _texts(6), st.sampled_from(["", " ", "}", ",1"])
).map("".join)


def _reference(text: str, max_depth: int) -> LoadedJson | JsonProblem:
    """``load_json`` as it was: a decoder built per call with the first-wins hook."""
    loaded = LoadedJson(None)

    def first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in pairs:
            if key in obj:
                loaded.duplicate_keys.append(key)
            else:
                obj[key] = value
        return obj

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    try:
        loaded.value = json.loads(text, object_pairs_hook=first_wins, parse_constant=refuse)
    except RecursionError:
        return JsonProblem("too_deep", "JSON nesting exceeds what the parser can follow")
    except ValueError as exc:
        return JsonProblem("bad_json", f"not valid JSON: {exc}")
    if exceeds_depth(text, max_depth):
        return JsonProblem("too_deep", f"JSON nesting is deeper than {max_depth} levels")
    return loaded


@given(_DOCUMENTS)
def test_same_value_names_and_problems(text: str) -> None:
    """Value, repeated names and refusals equal the per-call decoder's on generated texts."""
    got, want = load_json(text, MAX_DEPTH), _reference(text, MAX_DEPTH)
    if isinstance(want, LoadedJson) and isinstance(got, LoadedJson) and got.lone_surrogates:
        want.value = got.value  # the surrogate repair runs after either reading
        want.lone_surrogates = got.lone_surrogates
    assert got == want


@given(st.text(max_size=120))
def test_same_result_on_arbitrary_text(text: str) -> None:
    """Arbitrary text: the same refusal or the same reading as the per-call decoder."""
    got, want = load_json(text, MAX_DEPTH), _reference(text, MAX_DEPTH)
    if isinstance(got, LoadedJson) and isinstance(want, LoadedJson) and got.lone_surrogates:
        return  # the repair is tested in test_json_text; only the reading is compared here
    assert got == want

"""Framing between a bulk run and its workers: whatever way the byte stream is cut into reads,
the same messages come out, whole and in order, and nothing before its last byte arrived."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.model import Status
from mailshield.services.bulk_wire import Deframer, frame

MESSAGES = st.lists(
    st.one_of(
        st.lists(st.text(max_size=30), max_size=5),  # a chunk of names, [] the end mark
        st.lists(
            st.tuples(st.text(max_size=20), st.text(max_size=200), st.sampled_from(Status)),
            max_size=4,
        ),  # a batch of results
    ),
    max_size=8,
)


@given(MESSAGES, st.lists(st.integers(min_value=0, max_value=2000), max_size=10))
def test_any_cut_gives_back_the_messages(messages: list[object], cuts: list[int]) -> None:
    """Fed in pieces cut anywhere, the deframer returns exactly the framed messages."""
    stream = b"".join(frame(message) for message in messages)
    deframer = Deframer()
    got: list[object] = []
    start = 0
    for end in [*sorted(min(cut, len(stream)) for cut in cuts), len(stream)]:
        got += deframer.feed(stream[start:end])
        start = end
    assert got == messages
    assert deframer.pending == 0


def test_a_partial_message_waits_for_its_last_byte() -> None:
    """Until the last byte of a message arrives, nothing is returned; then it is."""
    wire = frame(["a.test", "b.test"])
    deframer = Deframer()
    assert deframer.feed(wire[:-1]) == []
    assert deframer.pending == len(wire) - 1
    assert deframer.feed(wire[-1:]) == [["a.test", "b.test"]]


def test_the_end_mark_is_an_empty_chunk() -> None:
    """An empty list survives the trip, distinct from no message at all."""
    assert Deframer().feed(frame([])) == [[]]

"""Message IDs of the DNS channel: unpredictable, read in batches, never shared across a fork."""

import os

from mailshield.probes.dns_channel import _RandomIds


def test_ids_are_16_bit_and_vary() -> None:
    ids = _RandomIds()
    drawn = [ids.next() for _ in range(2000)]  # crosses a batch boundary
    assert all(0 <= value < 1 << 16 for value in drawn)
    assert len(set(drawn)) > 1900  # 2,000 draws from 65,536 values repeat about 30 times


def test_a_forked_child_does_not_reuse_the_parents_ids() -> None:
    ids = _RandomIds()
    ids.next()  # the parent now holds a batch its child would inherit
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send the next 16 IDs and leave at once
        os.close(read_end)
        os.write(write_end, b"".join(ids.next().to_bytes(2, "big") for _ in range(16)))
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        child = pipe.read()
    os.waitpid(pid, 0)
    parent = b"".join(ids.next().to_bytes(2, "big") for _ in range(16))
    assert len(child) == 32
    assert child != parent

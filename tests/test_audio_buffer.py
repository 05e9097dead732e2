"""The ack/trim/resend buffer: property tests against a model of a server that numbers bytes as Gladia does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gladia_cli.live.buffer import AudioBuffer

ops = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(1, 700)),
        st.tuples(st.just("send"), st.integers(1, 8)),
        st.tuples(st.just("ack"), st.floats(0, 1)),  # fraction of what the server holds
        st.tuples(st.just("reconnect"), st.just(0)),
    ),
    max_size=80,
)


class Server:
    """Keeps every byte at its offset; checks a resent byte equals the first copy."""

    def __init__(self) -> None:
        self.data = bytearray()

    def receive(self, offset: int, piece: bytes) -> None:
        assert offset <= len(self.data), "a gap: the client skipped bytes the server never had"
        overlap = self.data[offset : offset + len(piece)]
        assert piece[: len(overlap)] == overlap, "a resent byte differs from the original"
        self.data[offset : offset + len(piece)] = piece


def _drain(buf: AudioBuffer, server: Server, max_frame: int) -> None:
    while (frame := buf.next_frame(max_frame)) is not None:
        server.receive(*frame)


@settings(max_examples=300, deadline=None)
@given(ops, st.integers(1, 1000))
def test_every_byte_arrives_once_in_order_whatever_the_acks_and_reconnects(operations, max_frame) -> None:
    buf = AudioBuffer(max_bytes=10**9)
    server = Server()
    source = bytearray()
    counter = 0
    for op, arg in operations:
        if op == "append":
            chunk = bytes((counter + i) % 251 for i in range(arg))
            counter += arg
            source += chunk
            assert buf.append(chunk) == 0
        elif op == "send":
            for _ in range(arg):
                frame = buf.next_frame(max_frame)
                if frame is None:
                    break
                server.receive(*frame)
        elif op == "ack":
            buf.ack(int(len(server.data) * arg))
        else:
            # The connection dropped: the server keeps what it received; the client resends from the last ack.
            resend_from = buf.rewind()
            assert resend_from == buf.acked
    buf.rewind()
    _drain(buf, server, max_frame)
    assert bytes(server.data) == bytes(source)
    buf.ack(len(server.data))
    assert buf.held_bytes == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 400), max_size=60), st.integers(500, 3000))
def test_bound_drops_oldest_and_counts_it(chunks, bound) -> None:
    buf = AudioBuffer(max_bytes=bound)
    total = 0
    for size in chunks:
        buf.append(bytes(size))
        total += size
        assert buf.held_bytes <= bound
    assert buf.held_bytes + buf.dropped_bytes == total


def test_ack_trims_inside_a_chunk_and_ignores_stale_acks() -> None:
    buf = AudioBuffer(max_bytes=1000)
    buf.append(b"abcdef")
    assert buf.next_frame(100) == (0, b"abcdef")
    buf.ack(4)
    buf.ack(2)  # stale: harmless
    assert buf.held_bytes == 2
    assert buf.rewind() == 4
    assert buf.next_frame(100) == (4, b"ef")
    buf.ack(999)  # beyond what was sent: clamped
    assert buf.acked == 6 and buf.held_bytes == 0


def test_dropping_unsent_audio_leaves_no_gap_in_numbering() -> None:
    buf = AudioBuffer(max_bytes=10)
    buf.append(b"0123456789")
    buf.append(b"ABCDE")  # over the bound: the oldest chunk goes
    assert buf.dropped_bytes == 10
    assert buf.next_frame(100) == (0, b"ABCDE")


def test_resend_is_split_into_frames() -> None:
    buf = AudioBuffer(max_bytes=10**6)
    buf.append(bytes(1000))
    assert buf.next_frame(1000) == (0, bytes(1000))
    buf.rewind()
    frames = []
    while (frame := buf.next_frame(300)) is not None:
        frames.append((frame[0], len(frame[1])))
    assert frames == [(0, 300), (300, 300), (600, 300), (900, 100)]

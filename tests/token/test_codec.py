"""The TLV and APDU codecs, and the channel's command and response chaining."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw.errors import OTPError
from pyotp_hw.token import tlv
from pyotp_hw.token.apdu import SW, Command, decode_response, encode_response, sw_text
from pyotp_hw.token.connection import ApduChannel
from pyotp_hw.token.errors import ProtocolError, TokenConnectionError
from pyotp_hw.token.virtual import VirtualCard

from .helpers import Recorder

tags = st.integers(0, 255)
values = st.binary(max_size=600)


# --- TLV ----------------------------------------------------------------------------------------


def test_tlv_known_encodings() -> None:
    # Lengths below 128 take one byte, up to 255 take 81 xx, beyond take 82 xx xx (BER).
    assert tlv.encode(0x71, b"abc") == bytes.fromhex("7103616263")
    assert tlv.encode(0x74, b"") == bytes.fromhex("7400")
    assert tlv.encode(0x75, bytes(200))[:3] == bytes.fromhex("7581C8")
    assert tlv.encode(0x75, bytes(300))[:4] == bytes.fromhex("7582012C")


@given(st.lists(st.tuples(tags, values), max_size=6))
def test_tlv_round_trip(items: list[tuple[int, bytes]]) -> None:
    encoded = tlv.encode_many(items)
    assert [(t.tag, t.value) for t in tlv.parse(encoded)] == items


@given(st.binary(max_size=300))
def test_tlv_parser_raises_only_its_protocol_error(data: bytes) -> None:
    try:
        items = tlv.parse(data)
    except tlv.TlvError as exc:
        assert isinstance(exc, ProtocolError) and isinstance(exc, OTPError)
    else:
        # Whatever parsed must re-encode to exactly the same bytes or to the same content.
        assert tlv.parse(tlv.encode_many((t.tag, t.value) for t in items)) == items


@given(st.lists(st.tuples(tags, st.binary(min_size=1, max_size=300)), min_size=1, max_size=4),
       st.data())
def test_tlv_truncation_is_detected(items: list[tuple[int, bytes]], data: st.DataObject) -> None:
    encoded = tlv.encode_many(items)
    cut = data.draw(st.integers(1, len(encoded) - 1))
    boundaries = set()
    pos = 0
    for tag, value in items:
        pos += len(tlv.encode(tag, value))
        boundaries.add(pos)
    if cut in boundaries:
        assert len(tlv.parse(encoded[:cut])) < len(items)
    else:
        with pytest.raises(tlv.TlvError):
            tlv.parse(encoded[:cut])


def test_tlv_bare_property_byte() -> None:
    # PUT sends its property as "78 pp" without a length byte.
    data = tlv.encode(0x71, b"n") + bytes([0x78, 0x02]) + tlv.encode(0x7A, b"\0\0\0\5")
    parsed = tlv.parse_dict(data, bare={0x78})
    assert parsed == {0x71: b"n", 0x78: b"\x02", 0x7A: b"\0\0\0\5"}
    with pytest.raises(tlv.TlvError):
        tlv.parse(bytes([0x78]), bare={0x78})


def test_tlv_bad_length_bytes() -> None:
    for bad in ("7180", "7183000001", "7181", "718201", "71", "7105aa"):
        with pytest.raises(tlv.TlvError):
            tlv.parse(bytes.fromhex(bad))


def test_tlv_repr_hides_values() -> None:
    item = tlv.Tlv(0x73, b"very secret key")
    assert "secret" not in repr(item) and "length=15" in repr(item)


def test_tlv_only() -> None:
    assert tlv.only(tlv.encode(0x76, b"\x06abcd"), 0x76) == b"\x06abcd"
    with pytest.raises(tlv.TlvError, match="expected one TLV 0x76"):
        tlv.only(tlv.encode(0x75, b"x"), 0x76)
    with pytest.raises(tlv.TlvError):
        tlv.only(tlv.encode(0x76, b"x") * 2, 0x76)


# --- APDU ---------------------------------------------------------------------------------------

byte = st.integers(0, 255)


@given(byte, byte, byte, byte, st.binary(max_size=255), st.one_of(st.none(), st.integers(1, 256)))
def test_short_apdu_round_trip(cla: int, ins: int, p1: int, p2: int, data: bytes,
                               le: int | None) -> None:
    command = Command(cla, ins, p1, p2, data, le)
    assert Command.decode(command.encode()) == command


@given(byte, byte, byte, byte, st.binary(max_size=2000),
       st.one_of(st.none(), st.integers(1, 65536)))
def test_extended_apdu_round_trip(cla: int, ins: int, p1: int, p2: int, data: bytes,
                                  le: int | None) -> None:
    command = Command(cla, ins, p1, p2, data, le)
    encoded = command.encode(extended=True)
    if data or le is not None:
        assert encoded[4] == 0  # the extended marker
    assert Command.decode(encoded) == command


def test_apdu_known_encodings() -> None:
    assert Command(0, 0xA4, 4, 0, bytes.fromhex("A0000005272101")).encode() == bytes.fromhex(
        "00A4040007A0000005272101"
    )
    assert Command(0, 0xA5, 0, 0).encode() == bytes.fromhex("00A50000")
    assert Command(0, 0xA1, 0, 0, le=256).encode() == bytes.fromhex("00A1000000")
    # Data longer than 255 bytes needs the extended form.
    long = Command(0, 1, 0, 0, bytes(300)).encode()
    assert long[4:7] == bytes.fromhex("00012C") and len(long) == 7 + 300


@given(st.binary(max_size=40))
def test_apdu_decoder_raises_only_protocol_error(raw: bytes) -> None:
    try:
        Command.decode(raw)
    except ProtocolError:
        pass


def test_apdu_repr_hides_data_and_validates_fields() -> None:
    command = Command(0, 3, 0, 0, b"password hash")
    assert "password" not in repr(command) and "data_length=13" in repr(command)
    with pytest.raises(ValueError, match="ins"):
        Command(0, 256)


def test_response_codec() -> None:
    assert encode_response(b"ab", SW.OK) == b"ab\x90\x00"
    assert decode_response(b"ab\x6a\x84") == (b"ab", 0x6A84)
    with pytest.raises(ProtocolError):
        decode_response(b"\x90")


def test_status_word_texts() -> None:
    assert sw_text(0x6A84) == "6A84 (not enough memory)"
    assert sw_text(0x6110) == "6110 (more data available)"
    assert sw_text(0x63C3) == "63C3 (verification failed, 3 tries left)"
    assert sw_text(0x6C20) == "6C20 (wrong Le)"
    assert sw_text(0x1234) == "1234 (unknown status)"


# --- channel: chaining over a card ---------------------------------------------------------------


class EchoApplet:
    """A test applet that answers any command with its data repeated ``p1`` times."""

    aid = bytes.fromhex("F000000001")
    send_remaining_ins = 0xA5

    def __init__(self) -> None:
        self.received: list[Command] = []

    def select(self) -> tuple[bytes, int]:
        return b"", SW.OK

    def deselect(self) -> None:
        pass

    def process(self, command: Command) -> tuple[bytes, int]:
        self.received.append(command)
        return command.data * command.p1, SW.OK


def _echo_channel(**card_options: object) -> tuple[ApduChannel, Recorder, EchoApplet]:
    applet = EchoApplet()
    card = VirtualCard([applet], **card_options)  # type: ignore[arg-type]
    recorder = Recorder(card.connect())
    channel = ApduChannel(recorder)
    assert channel.send(0xA4, 0x04, 0x00, applet.aid)[1] == SW.OK
    recorder.apdus.clear()
    return channel, recorder, applet


def test_response_chaining_collects_every_part() -> None:
    channel, recorder, _ = _echo_channel(max_response_chunk=100)
    payload = bytes(range(250))
    data, sw = channel.send(0x01, 3, 0, payload)  # 750 bytes back
    assert sw == SW.OK and data == payload * 3
    ins = [a[1] for a in recorder.apdus]
    assert ins == [0x01] + [0xA5] * 7  # ceil(750/100) - 1 SEND REMAINING


def test_command_chaining_splits_long_commands() -> None:
    channel, recorder, applet = _echo_channel()
    payload = bytes(i % 251 for i in range(700))
    data, sw = channel.send(0x01, 1, 0, payload)
    assert sw == SW.OK and data == payload
    sent = [Command.decode(a) for a in recorder.apdus if a[1] == 0x01]
    assert [c.cla for c in sent] == [0x10, 0x10, 0x00]
    assert all(len(c.data) <= 255 for c in sent)
    assert applet.received[-1].data == payload and applet.received[-1].cla == 0


def test_unsupported_chaining_falls_back_to_one_extended_apdu() -> None:
    channel, recorder, _applet = _echo_channel(command_chaining=False)
    payload = bytes(300)
    data, sw = channel.send(0x01, 1, 0, payload)
    assert sw == SW.OK and data == payload
    assert channel.extended
    sent = [a for a in recorder.apdus if a[1] == 0x01]
    assert len(sent) == 2  # the refused first link of the chain, then one extended APDU
    assert sent[-1][4] == 0 and Command.decode(sent[-1]).data == payload


def test_interleaved_chain_is_refused_by_the_card() -> None:
    _channel, recorder, _ = _echo_channel()
    card_conn = recorder.inner
    assert card_conn.transmit(Command(0x10, 0x01, 1, 0, b"a").encode())[1] == SW.OK
    assert card_conn.transmit(Command(0x00, 0x02, 1, 0, b"b").encode())[1] == 0x6883


class ScriptedConnection:
    """Answers each transmit with the next scripted (data, sw)."""

    def __init__(self, answers: list[tuple[bytes, int]]) -> None:
        self.answers = list(answers)
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.sent.append(apdu)
        if not self.answers:
            raise TokenConnectionError("script exhausted")
        return self.answers.pop(0)

    def close(self) -> None:
        pass


def test_wrong_le_is_retried_with_the_named_length() -> None:
    conn = ScriptedConnection([(b"", 0x6C05), (b"12345", 0x9000)])
    assert ApduChannel(conn).send(0xA1) == (b"12345", 0x9000)
    assert Command.decode(conn.sent[1]).le == 5


def test_runaway_response_chain_is_a_protocol_error() -> None:
    conn = ScriptedConnection([(b"x", 24833), (b"", 24833)])
    with pytest.raises(ProtocolError, match="announced more data but sent none"):
        ApduChannel(conn).send(0xA1)
    conn = ScriptedConnection([(bytes(4096), 0x6100)] * 300)
    with pytest.raises(ProtocolError, match="keeps sending data"):
        ApduChannel(conn).send(0xA1)

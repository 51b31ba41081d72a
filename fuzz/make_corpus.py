#!/usr/bin/env python3
"""Writes the fuzz seed corpus from the shared test vectors.

Every case in tests/vectors/*.json becomes one input for the target that
decodes its form, prefixed with the selector byte that target reads (see the
comment at the top of fuzz/packet_decode.cpp and fuzz/payload_decode.cpp):

  websocket cases -> fuzz/corpus/packet_decode/
  polling cases   -> fuzz/corpus/payload_decode/
  base64 texts    -> fuzz/corpus/base64/   (binary packet data, b-frames)
  HTTP requests   -> fuzz/corpus/http_reader/ (hand-made only, below)
  client programs -> fuzz/corpus/client_session/ (hand-made only, below)
  UTF-8 text      -> fuzz/corpus/utf8/ (hand-made only, below)
  Socket.IO cases -> fuzz/corpus/socketio_decode/ (tests/vectors/socketio/*.json,
                     and the hand-made programs below)
  server programs -> fuzz/corpus/socketio_server/ (hand-made only, below)
  Redis messages  -> fuzz/corpus/redis_wire/ (bytes the Node adapters wrote, below)

plus the hand-made seeds below. Files are named by the SHA-1 of their content,
as libFuzzer names its own finds, so rerunning is idempotent and a merge never
duplicates a seed. Existing files are left alone (the corpus also holds
libFuzzer finds merged in by hand); to prune, see fuzz/README.md.

Usage: fuzz/make_corpus.py [--vectors DIR] [--out DIR] [--dry-run]
Standard library only.
"""

import argparse
import base64
import glob
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The decode_options defaults (libs/parser/include/eio/parser.hpp).
DEFAULT_MAX_PAYLOAD_BYTES = 1_000_000
DEFAULT_MAX_PACKETS = 500_000
DEFAULT_MAX_LENGTH_DIGITS = 10

# Limit tables, index = selector bits; keep in step with the targets' config_from().
FRAME_MAX_BYTES = [DEFAULT_MAX_PAYLOAD_BYTES, 5, 16, 256]      # packet_decode bits 3-4
PAYLOAD_MAX_PACKETS = [DEFAULT_MAX_PACKETS, 1, 2, 16]          # payload_decode bits 3-4
PAYLOAD_MAX_BYTES = [DEFAULT_MAX_PAYLOAD_BYTES, 5, 8, 64]      # payload_decode bits 5-6
PAYLOAD_MAX_DIGITS = [DEFAULT_MAX_LENGTH_DIGITS, 2]            # payload_decode bit 7


def nearest_index(table, value):
    """The index of `value` in `table`, or of the closest entry (seeds only need to be close)."""
    return min(range(len(table)), key=lambda i: (abs(table[i] - value), i))


def frame_selector(eio, binary, options):
    s = 0x01 if eio == 3 else 0
    s |= 0x02 if binary else 0
    s |= 0x04 if not options.get("validate_utf8", True) else 0
    s |= nearest_index(FRAME_MAX_BYTES, options.get("max_payload_bytes", DEFAULT_MAX_PAYLOAD_BYTES)) << 3
    return s


def payload_selector(eio, binary, options):
    s = 0x01 if eio == 3 else 0
    s |= 0x02 if eio == 3 and binary else 0
    s |= 0x04 if not options.get("validate_utf8", True) else 0
    s |= nearest_index(PAYLOAD_MAX_PACKETS, options.get("max_packets", DEFAULT_MAX_PACKETS)) << 3
    s |= nearest_index(PAYLOAD_MAX_BYTES, options.get("max_payload_bytes", DEFAULT_MAX_PAYLOAD_BYTES)) << 5
    s |= nearest_index(PAYLOAD_MAX_DIGITS, options.get("max_length_digits", DEFAULT_MAX_LENGTH_DIGITS)) << 7
    return s


HANDSHAKE = (b'{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],'
             b'"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}')

# (target, bytes) seeds that the vectors do not cover well; the first byte of
# packet_decode/payload_decode seeds is the selector.
HAND_SEEDS = [
    # v4 text frame: the open handshake, probes, upgrade, noop.
    ("packet_decode", bytes([frame_selector(4, False, {})]) + b"0" + HANDSHAKE),
    ("packet_decode", bytes([frame_selector(4, False, {})]) + b"2probe"),
    ("packet_decode", bytes([frame_selector(4, False, {})]) + b"5"),
    # v4 binary frame: raw bytes including 0x00, 0x1e, 0xff.
    ("packet_decode", bytes([frame_selector(4, True, {})]) + b"\x00\x1e\xff\x04b4"),
    # v3: binary frame with a type byte, base64 text frame, lone surrogate-free 4-byte UTF-8.
    ("packet_decode", bytes([frame_selector(3, True, {})]) + b"\x04\x00\x01\xff"),
    ("packet_decode", bytes([frame_selector(3, False, {})]) + b"b4AQIDBA=="),
    ("packet_decode", bytes([frame_selector(3, False, {})]) + "4\U0001F600".encode()),
    # Without UTF-8 validation: invalid sequences must pass through and round-trip.
    ("packet_decode", bytes([frame_selector(4, False, {"validate_utf8": False})]) + b"4\xc3(\xed\xa0\x80"),
    # v4 payloads: every packet type, text and binary mixed; the handshake.
    ("payload_decode", bytes([payload_selector(4, False, {})]) + b"2\x1e3probe\x1e4hi\x1ebAQID\x1e5\x1e6"),
    ("payload_decode", bytes([payload_selector(4, False, {})]) + b"0" + HANDSHAKE),
    ("payload_decode", bytes([payload_selector(4, False, {"max_packets": 2})]) + b"4a\x1e4b\x1e4c"),
    # v3 text payloads: base64 packet, a surrogate pair counted as 2, empty "0:" packets.
    ("payload_decode", bytes([payload_selector(3, False, {})]) + b"6:4hello10:b4AQIDBA==1:2"),
    ("payload_decode", bytes([payload_selector(3, False, {})]) + "3:4\U0001F6002:4\u00e9".encode()),
    ("payload_decode", bytes([payload_selector(3, False, {})]) + b"0:0:1:6"),
    ("payload_decode", bytes([payload_selector(3, False, {})]) + str(len(HANDSHAKE) + 1).encode() + b":0" + HANDSHAKE),
    # v3 binary payload: text, binary, text with multi-byte UTF-8.
    ("payload_decode", bytes([payload_selector(3, True, {})])
     + b"\x00\x03\xff4hi" + b"\x01\x04\xff\x04\x00\xff\x1e" + b"\x00\x03\xff4\xc3\xa9"),
    # base64: every padding shape, the URL-unsafe alphabet, non-canonical tail bits, junk.
    ("base64", b""), ("base64", b"AA=="), ("base64", b"AAA="), ("base64", b"AAAA"),
    ("base64", b"QQ"), ("base64", b"QUI"), ("base64", b"QR=="), ("base64", b"+/+/"),
    ("base64", b"A"), ("base64", b"A=A="), ("base64", b"===="), ("base64", b"-_\xff\x00"),
] + [("http_reader", selector + request) for selector, request in [
    # http_reader: first byte = limits (fuzz/http_reader.cpp; 0 = the defaults), then a client stream.
    # HTTP/1.1 requests carry one Host (RFC 9112 section 3.2), or the reader stops at their head.
    (b"\x00", b"GET /engine.io/?EIO=4&transport=polling&t=N8hyd6w HTTP/1.1\r\nHost: localhost:3000\r\n"
               b"Accept: */*\r\nConnection: keep-alive\r\n\r\n"),
    (b"\x00", b"POST /engine.io/?EIO=4&transport=polling&sid=lv_VI97HAXpY6yYWAAAC HTTP/1.1\r\nHost: x\r\n"
               b"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 13\r\n\r\n4hello\x1e4world"),
    (b"\x00", b"GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
               b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
    (b"\x00", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1;flag\r\nhello\r\n"
               b"1 ; q=\"a;b\"\r\n,\r\n0\r\nX-Trailer: 1\r\nX-Other: two\r\n\r\n"),
    (b"\x00", b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
               b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nyo\r\n0\r\n\r\n"
               b"GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    (b"\x00", b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\nGET / HTTP/1.0\r\n\r\n"),
    (b"\x00", b"\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: x\r\nOrigin: http://example.com\r\n\r\n"),
    (b"\x00", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3, 03\r\n\r\nabc"),
    # Rejected: smuggling, codings, lengths, folds, versions, bare CR/LF, chunk framing, Host.
    (b"\x00", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    (b"\x00", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
    (b"\x00", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
    (b"\x00", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\n\r\n"),
    (b"\x00", b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\nX : y\r\n\r\n"),
    (b"\x00", b"GET / HTTP/2.0\r\n\r\nGET / http/1.1\r\n\r\n"),
    (b"\x00", b"GET / HTTP/1.1\nHost: x\r\nX: a\rb\r\n\r\n"),
    (b"\x00", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n"),
    (b"\x00", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    (b"\x00", b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"),
    (b"\x00", b"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\nhost: a\r\n\r\n"),
    (b"\x00", b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"),
    # Small limits: each at and over. Head 48, 1 header, body 7, chunk line 8 (an HTTP/1.0 request,
    # which needs no Host); head 128, 4 headers, body 7, chunk line 8; head 48, 1 header, body 7;
    # head 128, 100 headers, body 100.
    (bytes([0x01 | 0x08 | 0x20 | 0x80]), b"POST / HTTP/1.0\r\nContent-Length: 7\r\n\r\n1234567"),
    (bytes([0x02 | 0x0C | 0x20 | 0x80]), b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                          b"3;e\r\nabc\r\n5\r\nabcde\r\n0\r\n\r\n"),
    (bytes([0x01 | 0x08 | 0x20]), b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\nGET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n"),
    (bytes([0x02 | 0x30]), b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\nU: 2\r\n\r\n"),
]]


# client_session programs (fuzz/client_session.cpp): an option byte, then
# operations, each an opcode byte (taken modulo 13) and the argument bytes its
# reader draws. These walk the client through its main paths; libFuzzer finds
# the rest from them.
C_OPEN, C_SEND, C_CLOSE, C_ANSWER, C_FAIL, C_WS_OPENED, C_WS_FAILED, C_FRAME, C_WS_CLOSED, C_CLOCK, C_DEADLINE = (
    0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12)


def c_send(text, binary=False):
    return bytes([C_SEND, 0 if binary else 1, len(text)]) + text


def c_handshake(v3=False):
    # answer the first request 200 with a handshake: sid "s1\u00e9", pingInterval 40, pingTimeout 40, no extra, whole.
    return bytes([C_ANSWER, 0, 2, 1, 1, 40, 40, 1, 1]) + (b"\x01" if v3 else b"")


def c_packet(kind, data=b""):
    # server_packet_data: 1 close, 2 ping, 3 pong, 4 noop, 5 upgrade, 6 binary message, 7 text message.
    if kind in (2, 3):
        return bytes([kind, 1])  # ping/pong with empty data
    if kind in (6, 7):
        return bytes([kind, len(data)]) + data
    return bytes([kind])


def c_answer_payload(packets, v3=False):
    return bytes([C_ANSWER, 0, 2, 1, len(packets) - 1]) + b"".join(packets) + (b"\x01" if v3 else b"")


CLIENT_SEEDS = [
    # v4, polling + websocket, maxPayload 1e6, upgrade offered: handshake, probe, upgrade, messages, ping timeout.
    bytes([0x70, C_OPEN]) + c_send(b"hello") + c_handshake()
    + bytes([C_WS_OPENED, 0, C_FRAME, 0, 0])                       # probe opened, "3probe"
    + bytes([C_ANSWER, 0, 2])                                     # the POST: ok
    + c_answer_payload([c_packet(4)])                             # the GET: noop -> "5"
    + c_send(b"abc") + bytes([C_FRAME, 0, 1, 1]) + c_packet(7, b"hi")
    + bytes([C_FRAME, 0, 1, 1]) + c_packet(2)                    # ping -> pong on the WebSocket
    + bytes([C_CLOCK, 3, 2]),
    # v3 polling only: client pings on the timer, pong, messages both ways, close.
    bytes([0x03, C_OPEN]) + c_handshake(v3=True) + bytes([C_DEADLINE])
    + bytes([C_ANSWER, 1, 2])                                     # the POST (the ping)
    + c_answer_payload([c_packet(3), c_packet(7, b"yo"), c_packet(6, b"\x00\xff")], v3=True)
    + c_send(b"bin", binary=True) + c_send(b"text") + bytes([C_CLOSE]),
    # v4 websocket only: open packet on the socket, messages, the server's close packet.
    bytes([0x04, C_OPEN]) + c_send(b"early") + bytes([C_WS_OPENED, 0])
    + bytes([C_FRAME, 0, 1, 1, 0, 1, 1, 40, 40, 1, 1])            # frame: open packet
    + c_send(b"x") + bytes([C_FRAME, 0, 1, 1]) + c_packet(7, b"m") + bytes([C_FRAME, 0, 1, 1]) + c_packet(1),
    # v4, maxPayload 8: sends split over several POSTs; then a 500 on the poll.
    bytes([0x10, C_OPEN]) + c_handshake() + c_send(b"aaaa") + c_send(b"bbbbbbbb") + c_send(b"cc")
    + bytes([C_ANSWER, 1, 2, C_ANSWER, 1, 2, C_ANSWER, 0, 0, 3]) + b"err",
    # Upgrade that fails: the probe errors, polling goes on; then the WebSocket closes, close() flushes.
    bytes([0x70, C_OPEN]) + c_handshake() + bytes([C_WS_OPENED, 0, C_FRAME, 0, 0])
    + bytes([C_FRAME, 0, 0]) + c_send(b"after") + bytes([C_WS_CLOSED, 0, C_FAIL, 0, C_CLOSE]),
    # Garbage answers: a bad handshake, a payload that does not decode.
    bytes([0x00, C_OPEN, C_ANSWER, 0, 2, 1, 0, 3]) + b"a\"b" + bytes([40, 40, 0, 1]),
    bytes([0x00, C_OPEN]) + c_handshake() + bytes([C_ANSWER, 1, 2, 0, 5]) + b"9\x1e\x1e4",
    # v3 binary polling answer (octet-stream) and b64.
    bytes([0x0b, C_OPEN]) + c_handshake(v3=True) + bytes([C_ANSWER, 0, 2, 1, 0, 6, 3]) + b"\x01\x02\x03" + b"\x00",
]


# utf8 (fuzz/utf8.cpp): the bytes themselves. The boundaries of table 3-7,
# every kind of error, and inputs of 64 bytes or more, where the SIMD
# validators run, with the interesting byte across a 16- and 32-byte block.
MIXED = "a\u00e9\u20ac\U0001F600".encode()  # 1, 2, 3 and 4 bytes
UTF8_SEEDS = [
    b"", b"hello", MIXED,
    b"\xc2\x80\xdf\xbf", b"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf", b"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
    b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80", b"\xed\xa0\x80", b"\xf0\x80\x80\x80", b"\xf4\x90\x80\x80",
    b"\xf5\x80", b"\xff", b"\x80", b"\xe2\x82", b"\xf0\x9f\x98", b"a\xe2\x28\xa1",
    MIXED * 8, (MIXED * 8)[:-1], b"x" * 30 + MIXED + b"y" * 40, b"x" * 31 + "\U0001F600".encode() + b"y" * 40,
    b"x" * 65 + b"\xed\xa0\x80", b"x" * 63 + b"\xc3", b"\xe2\x82\xac" * 30 + b"\x80", b"z" * 128,
]


def case_input(case):
    if "input" in case:
        return case["input"].encode("utf-8")
    return base64.b64decode(case["input_base64"], validate=True)


def seeds_from_vectors(vectors_dir):
    paths = sorted(glob.glob(os.path.join(vectors_dir, "*.json")))
    if not paths:
        sys.exit(f"make_corpus: no *.json in {vectors_dir}")
    for path in paths:
        with open(path, encoding="utf-8") as f:
            cases = json.load(f)
        for case in cases:
            data = case_input(case)
            eio = case["eio"]
            binary = case.get("binary", False)
            options = case.get("options", {})
            if case["form"] == "websocket":
                yield "packet_decode", bytes([frame_selector(eio, binary, options)]) + data
                # The base64 text of a b-frame, valid or not.
                if not binary and data.startswith(b"b"):
                    yield "base64", data[2:] if eio == 3 else data[1:]
            else:
                yield "payload_decode", bytes([payload_selector(eio, binary, options)]) + data
            for packet in case.get("packets", []):
                if packet.get("binary") and packet.get("data"):
                    yield "base64", packet["data"].encode("ascii")


# socketio_decode's selector (see the top of fuzz/socketio_decode.cpp).
SIO_MAX_ATTACHMENTS = [10, 1, 3, 1000]  # bits 0-1
SIO_PROGRAM = 0x40


def socketio_selector(options):
    s = nearest_index(SIO_MAX_ATTACHMENTS, options.get("max_attachments", 10))
    s |= 0x04 if options.get("max_namespace_bytes", 256) <= 8 else 0
    s |= 0x08 if options.get("max_depth", 128) <= 4 else 0
    return s


def sio_text(text):
    """A program operation: a text packet (two length bytes)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return bytes([0, len(data) & 0xFF, len(data) >> 8]) + data


def sio_binary(data):
    return bytes([1, len(data)]) + data


def sio_tick(steps):
    return bytes([2 | (steps << 2)])


def sio_built(type, nsp, id, attachments, data):
    """A program operation: a packet built from fields, for the encoder."""
    out = bytes([7, type, len(nsp)]) + nsp.encode()
    out += bytes([0]) if id is None else bytes([1]) + id.to_bytes(8, "big") + bytes([0])
    return out + bytes([attachments, len(data)]) + data.encode()


PLACEHOLDER = '{"_placeholder":true,"num":%d}'
# Programs: binary packets and their attachments, errors of the assembler.
SOCKETIO_PROGRAMS = [
    sio_text('51-["up",%s]' % (PLACEHOLDER % 0)) + sio_binary(b"\x01\x02\x03"),
    sio_text('52-/admin,7["up",%s,[%s]]' % (PLACEHOLDER % 1, PLACEHOLDER % 0)) + sio_binary(b"a") + sio_binary(b"")
    + sio_text('2["after"]'),
    sio_binary(b"orphan") + sio_text('2["x"]'),
    sio_text('51-["up",%s]' % (PLACEHOLDER % 0)) + sio_text('2["too early"]'),
    sio_text('51-["up",%s]' % (PLACEHOLDER % 0)) + sio_tick(63) + sio_tick(63) + sio_binary(b"late"),
    sio_text('61-/x,3[%s]' % (PLACEHOLDER % 0)) + sio_binary(bytes(range(40))),
    sio_text('0/admin,{"token":"abc"}') + sio_text('2/admin,1["m",{"a":[1,2.5,null,true]}]') + sio_text("3/admin,1[]")
    + sio_text("1/admin,"),
    sio_built(2, "/chat", 42, 0, '["a",1]') + sio_built(5, "/", None, 1, '["a",%s]' % (PLACEHOLDER % 0))
    + sio_built(4, "/x", None, 0, '"no"') + sio_built(2, "bad,nsp", None, 0, '["a"]'),
]


def seeds_from_socketio_vectors(vectors_dir):
    for path in sorted(glob.glob(os.path.join(vectors_dir, "socketio", "*.json"))):
        with open(path, encoding="utf-8") as f:
            cases = json.load(f)
        for case in cases:
            selector = socketio_selector(case.get("options", {}))
            yield ("socketio_decode", bytes([selector]) + case["input"].encode("utf-8"))
    for program in SOCKETIO_PROGRAMS:
        yield ("socketio_decode", bytes([SIO_PROGRAM | 0x20]) + program)


# fuzz/socketio_server.cpp: an option byte, then operations (op byte and its
# arguments, in the order the target reads them). Keep in step with the
# comment at the top of that file.
def ss_open(loop=0, polling=False):
    return bytes([24 if polling else 0, loop])  # 24: op 0 with bit 4 set


def ss_connect(client, nsp=0, auth=0):
    return bytes([1, client, 0, nsp, 0, auth])


def ss_event(client, event, nsp=0, args=0, ack_id=None):
    flag = [0] if ack_id is None else [1, ack_id]
    return bytes([1, client, 1, nsp] + flag + [event, args])


def ss_ack(client, nsp=0, ack_id=0):
    return bytes([1, client, 3, nsp, 1, ack_id])


def ss_disconnect(client, nsp=0):
    return bytes([1, client, 4, nsp, 0])


def ss_binary_event(client, attachments, event=0, nsp=0):
    return bytes([1, client, 5, nsp, 0, attachments - 1, event])


def ss_attachment(client, data):
    return bytes([3, client, len(data)]) + data


def ss_raw(client, text):
    return bytes([2, client, len(text)]) + text


ss_drop = lambda client, failed=0: bytes([4, client, failed])
ss_tick = lambda steps: bytes([5, steps])
ss_poll = lambda client: bytes([6, client])
ss_broadcast = lambda loop=0, main=1, rooms=1, volatile=0: bytes([7, loop, main, rooms, volatile])
ss_fetch = lambda loop=0, act=1: bytes([8, loop, 0, 1, act])
ss_join_all = lambda loop=0: bytes([8, loop, 1, 0])
ss_disconnect_all = lambda loop=0, close=1: bytes([8, loop, 3, 0, close])
ss_server_side_emit = lambda loop=0: bytes([9, loop])
ss_answer = lambda client: bytes([10, client])
ss_mute = lambda client: bytes([11, client])

# Event indices of the target's table.
SS_ECHO, SS_ACK, SS_JOIN1, SS_JOIN2, SS_LEAVE1, SS_ROOM, SS_ASK, SS_BCAST, SS_BYE, SS_CLOSE = range(10)

SOCKETIO_SERVER_SEEDS = [
    # One loop: join, events of every kind, rooms, a broadcast, a disconnect.
    bytes([0]) + ss_open() + ss_open() + ss_connect(0) + ss_connect(1) + ss_event(0, SS_ECHO, args=3)
    + ss_event(0, SS_JOIN1) + ss_event(1, SS_JOIN1) + ss_event(1, SS_ROOM, args=1) + ss_broadcast(rooms=1)
    + ss_event(0, SS_ACK, args=2, ack_id=3) + ss_event(0, SS_LEAVE1) + ss_broadcast(rooms=3)
    + ss_disconnect(1) + ss_event(0, SS_BYE) + ss_event(0, SS_CLOSE),
    # Two loops: cluster operations, acks both ways.
    bytes([1]) + ss_open(0) + ss_open(1) + ss_open(1) + ss_connect(0) + ss_connect(1) + ss_connect(2)
    + ss_event(0, SS_JOIN1) + ss_event(1, SS_JOIN1) + ss_broadcast(loop=1, rooms=1) + ss_fetch(0)
    + ss_join_all(1) + ss_server_side_emit(0) + ss_event(2, SS_BCAST) + ss_answer(0) + ss_answer(1)
    + ss_answer(2) + ss_event(0, SS_ASK) + ss_answer(0) + ss_tick(20) + ss_disconnect_all(1),
    # Binary events and attachments, one withheld until the timeout.
    bytes([4]) + ss_open() + ss_connect(0) + ss_binary_event(0, 2, SS_ECHO) + ss_attachment(0, b"\x01\x02")
    + ss_attachment(0, b"\xff") + ss_binary_event(0, 1) + ss_tick(30) + ss_open() + ss_connect(1)
    + ss_binary_event(1, 3) + ss_attachment(1, b"x" * 8),
    # Recovery: a cut, a broadcast meanwhile, a reconnect with pid and offset.
    bytes([2]) + ss_open() + ss_connect(0) + ss_event(0, SS_JOIN1) + ss_event(0, SS_ECHO, args=1)
    + ss_drop(0) + ss_open() + ss_connect(1) + ss_broadcast(rooms=1) + ss_open() + ss_connect(2, auth=3)
    + ss_tick(255) + ss_tick(255),
    # Recovery over two loops, with the slow middleware and a refusal.
    bytes([1 | 2 | 8]) + ss_open(0) + ss_connect(0, nsp=1) + ss_tick(10) + ss_event(0, SS_JOIN1, nsp=1)
    + ss_drop(0, 1) + ss_open(1) + ss_connect(1, nsp=1, auth=3) + ss_tick(10) + ss_open(1)
    + ss_connect(2, nsp=1, auth=2) + ss_tick(10),
    # Dynamic namespaces, unknown ones, too many of them.
    bytes([4]) + ss_open() + ss_connect(0, nsp=2) + ss_connect(0, nsp=3) + ss_connect(0, nsp=4)
    + ss_connect(0, nsp=1) + ss_connect(0, nsp=5) + ss_connect(0),
    # Polling, a ping timeout, a bad packet.
    bytes([0]) + ss_open(polling=True) + ss_connect(0) + ss_poll(0) + ss_event(0, SS_ECHO, args=5) + ss_poll(0)
    + ss_broadcast(volatile=1) + ss_mute(0) + ss_tick(255) + ss_open() + ss_connect(1)
    + ss_raw(1, b'2["connect"]') + ss_open() + ss_connect(2) + ss_raw(2, b"51-[\"a\",{\"_placeholder\":true,\"num\":\"splice\"}]")
    + ss_open() + ss_connect(3) + ss_connect(3),
]


# fuzz/redis_wire.cpp: a selector byte (bits 0-2: the decoder), then its
# input. Keep in step with the comment at the top of that file. The bytes are
# what the Node adapters wrote (notepack.io 3 for @socket.io/redis-adapter,
# @msgpack/msgpack 2 for @socket.io/redis-streams-adapter), made with the
# packages in node_modules; the JavaScript is in each comment.
(RW_MSGPACK, RW_JSON, RW_MESSAGE, RW_STREAM, RW_STREAM_RAW, RW_SESSION, RW_SESSION_RAW,
 RW_STREAM_ID) = range(8)
RW_SEPARATOR = b"\xc1"  # between stream entry fields: never in msgpack, UTF-8 or base64


def rw(mode, data):
    return bytes([mode]) + data


def rw_stream(fields, raw=False):
    return rw(RW_STREAM_RAW if raw else RW_STREAM, RW_SEPARATOR.join(fields))


RW_OPTS = b'{"rooms":["r1"],"except":["x"],"flags":{"volatile":false}}'
REDIS_WIRE_SEEDS = [
    # sharded adapter, notepack.encode({uid: "5f0b0c3a9e1d2c4b", nsp: "/", type: 3, data: {opts, packet:
    #   {type: 2, data: ["ev", Buffer.from([1, 2, 3]), {a: 1.5, b: undefined, c: -7, d: null, e: true}], nsp: "/"}}})
    # with opts = {rooms: ["r1"], except: ["x"], flags: {volatile: false}}
    rw(RW_MESSAGE, bytes.fromhex(
        "84a3756964b035663062306333613965316432633462a36e7370a12fa47479706503a46461746182a46f70747383a5726f6f6d739"
        "1a27231a665786365707491a178a5666c61677381a8766f6c6174696c65c2a67061636b657483a47479706502a46461746193a265"
        "76c40301020384a161cb3ff8000000000000a163f9a164c0a165c3a36e7370a12f")),
    # notepack.encode({uid: "5f0b0c3a9e1d2c4b", nsp: "/", type: 10,
    #   data: {requestId: "7", packet: [Buffer.from([0, 255]), 2]}})
    rw(RW_MESSAGE, bytes.fromhex(
        "84a3756964b035663062306333613965316432633462a36e7370a12fa4747970650aa46461746182a9726571756573744964a137a6"
        "7061636b657492c40200ff02")),
    # The classic adapter's broadcast, notepack.encode(["uid1", {type: 2, data: ["ev", Buffer.from([1, 2, 3])],
    #   nsp: "/"}, opts]): a msgpack value.
    rw(RW_MSGPACK, bytes.fromhex(
        "93a47569643183a47479706502a46461746192a26576c403010203a36e7370a12f83a5726f6f6d7391a27231a665786365707491a1"
        "78a5666c61677381a8766f6c6174696c65c2")),
    # sharded adapter, JSON.stringify of messages without binary.
    rw(RW_MESSAGE, b'{"uid":"5f0b0c3a9e1d2c4b","nsp":"/chat","type":8,"data":{"requestId":"a1b2","sockets":[{"id":'
       b'"abcdefghijklmnopqrst","rooms":["abcdefghijklmnopqrst","room1"],"data":{"user":"u","n":3},"handshake":'
       b'{"headers":{"host":"localhost:3000","x-multi":["a","b"]},"time":"Tue Mar 05 2024 10:00:00 GMT+0000 '
       b'(Coordinated Universal Time)","address":"::1","xdomain":false,"secure":false,"issued":1709632800000,'
       b'"url":"/socket.io/?EIO=4&transport=polling","query":{"EIO":"4","transport":"polling"},"auth":{"token":'
       b'"t"}}}]}}'),
    rw(RW_MESSAGE, b'{"uid":"5f0b0c3a9e1d2c4b","nsp":"/","type":3,"data":{"opts":{"rooms":[],"except":["x"],'
       b'"flags":{"timeout":5000}},"packet":{"type":2,"data":["ask",{"q":[1,"two",null]}],"nsp":"/"},'
       b'"requestId":"42"}}'),
    rw(RW_MESSAGE, b'{"uid":"u","nsp":"/","type":4,"data":{"opts":{"rooms":["a"],"except":[],"flags":{}},'
       b'"rooms":["b","c"]}}'),
    rw(RW_JSON, b'{"uid":"u","nsp":"/","type":11,"data":{"requestId":"42","clientCount":3}}'),
    rw(RW_JSON, b'{"uid":"u","nsp":"/","type":2}'),
    # streams adapter entries: uid, nsp, type, data (JSON.stringify(message.data), or
    # Buffer.from(encode(message.data)).toString("base64") when it has binary).
    rw_stream([b"feedfacefeedface", b"/", b"3",
               b'{"opts":' + RW_OPTS + b',"packet":{"type":2,"data":["ev",1,"two",{"k":[true]}],"nsp":"/"}}']),
    rw_stream([b"feedfacefeedface", b"/admin", b"6", b'{"opts":{"rooms":["r"],"except":[],"flags":{}},"close":true}']),
    # encode({opts, packet: {type: 2, data: ["ev", Buffer.from([1, 2, 3])], nsp: "/"}}), as the entry
    # has it (base64) and as msgpack for the target to encode.
    rw_stream([b"feedfacefeedface", b"/", b"3",
               b"gqRvcHRzg6Vyb29tc5GicjGmZXhjZXB0kaF4pWZsYWdzgah2b2xhdGlsZcKmcGFja2V0g6R0eXBlAqRkYXRhkqJl"
               b"dsQDAQIDo25zcKEv"]),
    rw_stream([b"feedfacefeedface", b"/", b"3", bytes.fromhex(
        "82a46f70747383a5726f6f6d7391a27231a665786365707491a178a5666c61677381a8766f6c6174696c65c2a67061636b657483a4"
        "7479706502a46461746192a26576c403010203a36e7370a12f")], raw=True),
    # persistSession: encode({sid: "abcdefghijklmnopqrst", pid: "pid-1", rooms: ["abcdefghijklmnopqrst",
    #   "watchers"], data: {k: "v", n: 1, b: Buffer.from([0, 255])}}), base64 and msgpack.
    rw(RW_SESSION, b"hKNzaWS0YWJjZGVmZ2hpamtsbW5vcHFyc3SjcGlkpXBpZC0xpXJvb21zkrRhYmNkZWZnaGlqa2xtbm9wcXJz"
       b"dKh3YXRjaGVyc6RkYXRhg6FroXahbgGhYsQCAP8="),
    rw(RW_SESSION_RAW, bytes.fromhex(
        "84a3736964b46162636465666768696a6b6c6d6e6f7071727374a3706964a57069642d31a5726f6f6d7392b46162636465666768"
        "696a6b6c6d6e6f7071727374a87761746368657273a46461746183a16ba176a16e01a162c40200ff")),
    # Stream ids: XADD's, the largest, one past it.
    rw(RW_STREAM_ID, b"1796544323091-7"),
    rw(RW_STREAM_ID, b"18446744073709551615-18446744073709551615"),
    rw(RW_STREAM_ID, b"18446744073709551616-0"),
    # Every msgpack format in one value (by hand): [uint 8, uint 32, int 8, int 32, float 32,
    # float 64 1.0 and -2.0, str 16, str 32, bin 16, bin 32, ext 8, ext 16, ext 32, undefined,
    # fixext 4 type 0 (an ArrayBuffer), fixext 8 type -1 (a Date), {map 16: 1.5}].
    rw(RW_MSGPACK, bytes.fromhex(
        "dc0012" "ccff" "ce00010000" "d080" "d2ffff0000" "ca3fc00000" "cb3ff0000000000000" "cbc000000000000000"
        "da0002c3a9" "db00000001" "61" "c50002" "0102" "c600000001" "ff" "c7010501" "c800020502" "02" "c900000000" "05"
        "d40000" "d60001020304" "d7ff0000000000000000" "de0001" "a1" "6b" "cb3ff8000000000000")),
    # JSON numbers: integers written as floats, a float, numbers as uid and rooms.
    rw(RW_JSON, b'[1.0,-2.0,1.5,1e300,-0.0,18446744073709551615,-9223372036854775808,"\\u00e9"]'),
    rw(RW_MESSAGE, b'{"uid":12,"nsp":"/","type":4,"data":{"opts":{"rooms":[1,2.5],"except":[]},"rooms":[3]}}'),
    # Hostile: 136 nested map headers, each announcing 4000 pairs (no more
    # than the message's bytes, each alone), then too few bytes for any.
    rw(RW_MSGPACK, (b"\xdf\x00\x00\x0f\xa0" * 136).ljust(4001, b"\x00")),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", default=os.path.join(ROOT, "tests", "vectors"))
    parser.add_argument("--out", default=os.path.join(HERE, "corpus"))
    parser.add_argument("--dry-run", action="store_true", help="count, write nothing")
    args = parser.parse_args()

    written = {}
    existing = {}
    seeds = list(seeds_from_vectors(args.vectors)) + HAND_SEEDS + [("client_session", p) for p in CLIENT_SEEDS]
    seeds += [("utf8", text) for text in UTF8_SEEDS]
    seeds += list(seeds_from_socketio_vectors(args.vectors))
    seeds += [("socketio_server", p) for p in SOCKETIO_SERVER_SEEDS]
    seeds += [("redis_wire", p) for p in REDIS_WIRE_SEEDS]
    for target, data in seeds:
        directory = os.path.join(args.out, target)
        path = os.path.join(directory, hashlib.sha1(data).hexdigest())
        if os.path.exists(path):
            existing[target] = existing.get(target, 0) + 1
            continue
        if not args.dry_run:
            os.makedirs(directory, exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        written[target] = written.get(target, 0) + 1
    for target in sorted(set(t for t, _ in seeds)):
        print(f"{target}: {written.get(target, 0)} new, {existing.get(target, 0)} already there")


if __name__ == "__main__":
    main()

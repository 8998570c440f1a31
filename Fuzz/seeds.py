#!/usr/bin/env python3
"""Writes starting inputs for the fuzz targets: one well-formed example of every frame kind,
so the fuzzer starts from deep inside the decoder instead of guessing the framing.

Usage: seeds.py DIR   (creates DIR/FuzzFrames and DIR/FuzzHandshake)
The layout mirrors Sources/ClusterNode/Wire (FrameCodec.swift, ByteBuffer+Wire.swift)."""
import os
import struct
import sys


def varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def lp(data):
    data = data.encode() if isinstance(data, str) else data
    return varint(len(data)) + data


def node(name, port, incarnation):
    return lp(name) + lp("127.0.0.1") + varint(port) + struct.pack(">Q", incarnation)


def labels(pairs):
    return varint(len(pairs)) + b"".join(lp(k) + lp(v) for k, v in sorted(pairs.items()))


def frame(kind, body=b""):
    return struct.pack(">I", 1 + len(body)) + bytes([kind]) + body


NONCE = bytes(range(32))
ALICE = node("alice", 7001, 1)
BOB = node("bob", 7002, 2)

HELLO = frame(1, struct.pack(">IH", 0x50485542, 1) + ALICE + lp(NONCE) + labels({"zone": "a"}))
CHALLENGE = frame(2, BOB + lp(NONCE) + lp(bytes(32)) + labels({}))
PROOF = frame(3, lp(bytes(32)))
ACCEPTED = frame(4)
REJECTED = frame(5, bytes([1]))
HEARTBEAT = frame(10)
MEMBERS = frame(11, varint(2) + ALICE + BOB)
LEAVING = frame(12)


def call(call_id, method_tag, serial=1030, args=(b"\x01\x02",), subs=()):
    body = varint(call_id) + struct.pack(">Q", 9) + varint(serial)
    if serial == 0:
        body += lp("$agent")
    body += method_tag + varint(len(subs)) + b"".join(lp(s) for s in subs)
    return frame(20, body + varint(len(args)) + b"".join(lp(a) for a in args))


CALLS = (
    call(1, varint(0) + lp("$s4Demo4EchoC3add"))  # inline
    + call(2, varint(1 << 1 | 1) + lp("$s4Demo4EchoC4echo"), subs=("Si",))  # define id 1
    + call(3, varint(1 << 1), serial=0, args=())  # reference id 1, named target
)
REPLIES = (
    frame(21, varint(1) + bytes([0]) + lp(b"\x2a"))
    + frame(21, varint(2) + bytes([1]))
    + frame(21, varint(3) + bytes([2]) + lp("DemoError") + lp(b"{}"))
    + frame(21, varint(4) + bytes([3]) + lp("unknownActor") + lp("nope") + lp(""))
)

FRAME_SEEDS = {
    "handshake": bytes([255]) + HELLO + CHALLENGE + PROOF + ACCEPTED + REJECTED,
    "link": bytes([7]) + HEARTBEAT + MEMBERS + LEAVING,
    "calls": bytes([0]) + CALLS,
    "replies": bytes([31]) + REPLIES,
}


def short(full):
    """A frame in the handshake target's form: [UInt8 length][kind][body]."""
    return bytes([len(full) - 4]) + full[4:]


HANDSHAKE_SEEDS = {
    "acceptor-hello-proof": bytes([0]) + short(HELLO) + short(PROOF),
    "initiator-challenge": bytes([1]) + short(CHALLENGE) + short(ACCEPTED),
    "genuine": bytes([2, 0, 0, 0, 0]),
    "injected-hello": bytes([2, 1]) + short(HELLO) + bytes([0, 0, 0]),
    "replaced-proof": bytes([2, 0, 0, 2]) + short(PROOF) + bytes([0]),
    "replayed": bytes([2, 3, 3, 3, 3]),
}


def main():
    root = sys.argv[1]
    for target, seeds in (("FuzzFrames", FRAME_SEEDS), ("FuzzHandshake", HANDSHAKE_SEEDS)):
        folder = os.path.join(root, target)
        os.makedirs(folder, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()

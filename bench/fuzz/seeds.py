#!/usr/bin/env python3
"""Writes the hand-made seed inputs of every fuzz target into corpus/<target>/seed-*.
Run once when a target is added; fuzz.sh adds what AFL finds (minimized) beside them."""
import base64, hashlib, hmac, os, struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

def fnv(name):
    h = 2166136261
    for c in name:
        h ^= ord(c); h = (h * 16777619) & 0xFFFFFFFF
    return h

def leb(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80); n >>= 7
    out.append(n); return bytes(out)

def cursor(entries):
    raw = bytearray([1])
    for channel, epoch, offset in entries:
        raw += struct.pack("<I", fnv(channel)) + bytes([len(epoch)]) + epoch.encode() + leb(offset)
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=")

def write(target, name, data):
    folder = os.path.join(ROOT, target); os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

CH = ["chat:lobby", "user:alice@example.com", "news:a.b-c_d=e~f"]
write("cursor", "one", b"chat:lobby\n" + cursor([("chat:lobby", "k3f9", 42)]))
write("cursor", "three", ",".join(CH).encode() + b"\n" + cursor([(c, "e-1_x", i * 300) for i, c in enumerate(CH)]))
write("cursor", "max-offset", b"chat:lobby\n" + cursor([("chat:lobby", "k3f9", 2**63 - 1)]))
write("cursor", "unknown-channel", b"chat:lobby\n" + cursor([("chat:other", "k3f9", 1)]))
write("cursor", "empty", b"chat:lobby\n")
write("last-event-id", "two", cursor([(CH[0], "k3f9", 7), (CH[2], "0197c2f0", 123456789)]))
write("last-event-id", "all", cursor([(c, "e", 1) for c in CH]))
write("last-event-id", "bad", b"AQ")

def head(*headers, target="/v1/ws?channel=chat:lobby"):
    return ("GET %s HTTP/1.1\r\n" % target + "".join(h + "\r\n" for h in headers) + "\r\n").encode()
BASE = ["Host: localhost:8080", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
write("ws-head", "minimal", head(*BASE))
write("ws-head", "browser", head(*BASE, "Origin: https://app.example.com", "User-Agent: Mozilla/5.0", "Accept-Encoding: gzip, deflate", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits", target="/v1/ws?token=eyJhbGciOi.x.y&channel=a:b"))
write("ws-head", "keep-alive", head("Host: h", "Upgrade: WebSocket", "Connection: keep-alive, Upgrade", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==", "Sec-WebSocket-Version: 13", "Authorization: Bearer key"))
write("ws-head", "not-ws", b"GET /v1/wsx HTTP/1.1\r\nHost: h\r\n\r\n")

for name, op in [("subscribe", '{"id":1,"op":"subscribe","channel":"chat:lobby","since":{"epoch":"k3f9","offset":3}}'),
                 ("publish", '{"id":"a-1","op":"publish","channel":"chat:lobby","type":"message","idempotencyKey":"k1","data":{"text":"hi \\ud83d\\ude00","n":[1,2.5e3,null,true]}}'),
                 ("history", '{"id":3,"op":"history","channel":"chat:lobby","after":0,"limit":10,"reverse":true}'),
                 ("cursor", '{"op":"subscribe","channel":"user:\u00e9","cursor":"AQ"}'),
                 ("ping", '{"op":"ping","id":null}'),
                 ("unknown", '{"op":"nope","id":9223372036854775807}')]:
    write("ws-message", name, op)

def frame(opcode, length, fin=True, masked=True, payload=None):
    out = bytearray([(0x80 if fin else 0) | opcode])
    m = 0x80 if masked else 0
    if length < 126: out.append(m | length)
    elif length < 65536: out += bytes([m | 126]) + struct.pack(">H", length)
    else: out += bytes([m | 127]) + struct.pack(">Q", length)
    if masked: out += b"\x01\x02\x03\x04"
    out += payload if payload is not None else bytes(min(length, 64))
    return bytes(out)
write("ws-frames", "text", b"\x00" + frame(1, 5, payload=b"hello") + frame(9, 0) + frame(1, 20))
write("ws-frames", "fragmented", b"\x03" + frame(1, 600, fin=False, payload=bytes(600)) + frame(0, 300, payload=bytes(300)) + frame(0, 200, payload=bytes(200)))
write("ws-frames", "big-header", b"\x05" + frame(2, 2**40, payload=b""))
write("ws-frames", "ext16", b"\x01" + frame(1, 999, payload=bytes(999)) + frame(8, 2, payload=b"\x03\xe8"))

for name, body in [("simple", '{"data":{"text":"hello"},"type":"message"}'),
                   ("pretty", '{\r\n  "type": null,\n  "data": [1, 2, {"a": "b\\n"}]\n}'),
                   ("scalar", '{"data":"\\u00e9\\ud83d\\ude00"}'),
                   ("number", '{"data":-1.5e-300}'),
                   ("dup", '{"data":1,"data":2}')]:
    write("publish-body", name, body)
for name, body in [("object", '{"a":[1,2,{"b":null}],"c":"d\\"e","f":true}'),
                   ("pretty", '{\n\t"a" : [ 1 , 2 ]\r\n}\n'),
                   ("string", '"\\ud83d\\ude00 \\u0000 \\/"'),
                   ("utf8", '{"\u00e9":"\u4e2d\u6587"}'),
                   ("deep", "[" * 60 + "]" * 60)]:
    write("json-data", name, body)

# webhook-signature: scheme byte (0 GitHub, 1 Stripe, 2 Standard Webhooks, 3 API key), headers, blank line, body.
BODY = '{"type":"invoice.paid","id":"evt_1","data":{"object":{"customer":"cus_9"}}}'
write("webhook-signature", "github", "\x00X-Hub-Signature-256: sha256=$SIG\nX-GitHub-Delivery: 72d3162e\nX-GitHub-Event: push\n\n" + BODY)
write("webhook-signature", "github-bad", "\x00X-Hub-Signature-256: sha256=" + "0" * 64 + "\n\n" + BODY)
write("webhook-signature", "stripe", "\x01Stripe-Signature: t=$NOW,v1=$SIG,v0=abc\n\n" + BODY)
write("webhook-signature", "stripe-stale", "\x01Stripe-Signature: t=1,v1=$SIG\n\n" + BODY)
write("webhook-signature", "standard", "\x02webhook-id: msg_1\nwebhook-timestamp: $NOW\nwebhook-signature: v1a,xyz v1,$SIG\n\n" + BODY)
write("webhook-signature", "standard-bad", "\x02webhook-id: msg_1\nwebhook-timestamp: 99999999999999999999\nwebhook-signature: v1,AAAA\n\n" + BODY)
write("webhook-signature", "apikey", "\x03Authorization: Bearer $SIG\nIdempotency-Key: d-1\n\n" + BODY)

for name, body in [("stripe", BODY), ("standard", '{"type":"user.created","data":{"id":7}}'),
                   ("long-type", '{"type":"' + "a" * 63 + '\u00e9\u4e2d","id":"evt_2"}'),
                   ("array", '[{"type":"x"}]'), ("scalar", '42'),
                   # The type cut at 64 characters between the halves of a surrogate pair (fixed; see docs/security.md).
                   ("type-cut-surrogate", '{"type":"' + "a" * 63 + '\\ud83d\\ude00tail","id":"evt_3"}')]:
    write("webhook-body", name, body)

for name, n in [("simple", "chat:lobby"), ("full", "user_1-x:AZaz09_-.=@~"), ("long-ns", "a" * 32 + ":x"), ("bad", "Chat:lobby"), ("unicode", "chat:\u00e9\U0001F600")]:
    write("channel-name", name, n)

for name, t in [("github", 'notify:{repository.full_name}\n{"repository":{"full_name":"herald/herald"}}'),
                ("fixed", "notify:deploys\n{}"),
                ("array", 'ci:{builds.0.id}-{builds.1.id}\n{"builds":[{"id":1},{"id":"x y"}]}'),
                ("unmatched", "notify:{a\n{}"),
                ("number", 'n:{v}\n{"v":1.5e10}')]:
    write("channel-template", name, t)

for name, t in [("simple", 'message\nalice\n{"text":"hello"}'),
                ("pretty", 'chat.message\n\n{\r\n "a": [1,\n 2]\n}'),
                ("unicode", 't\u00e9\U0001F600\nbob@example.com\n"\\u2028\\ud83d\\ude00"'),
                ("scalar", '\n\nnull')]:
    write("encoders", name, t)

# Inputs that crashed a target before its fix (docs/security.md, "Crashes found"): replayed by ./test.sh.
REST = b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
write("ws-head", "crash-host-control", b"GET /v1/ws?cy HTTP/1.1\r\nHost: h\r\x1aUpgrade: WebSocket\r\n" + REST)
write("ws-head", "crash-value-control", b"GET /v1/ws HTTP/1.1\r\nHost: h\r\nUser-Agent: i\x7f\xff\r\n" + REST)
write("ws-frames", "crash-continuation-2-63", bytes([0x05, 0x05, 0x82, 0x7F, 0x64, 0x03, 0x1D, 0x1D, 0x21, 0x80, 0x7F, 0xFF, 0xFF, 0x82, 0xE1, 0x00, 0x00, 0x01, 0x00]))
write("channel-name", "crash-half-surrogate", "uuser_1\U0001F600C=@ser_1 x:ZA")


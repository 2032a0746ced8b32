#!/usr/bin/env python3
# ctl_abuse.py SOCKET: 1,000 hostile clients against vigild's control socket,
# 100 at a time: garbage, malformed requests, oversized and partial messages,
# clients that stall half-way, send byte by byte, or never read. Each must
# get an error reply or be cut off within a bound (a slow but complete
# request must be answered). Prints a line per kind; exit 0 if all behaved.
import concurrent.futures
import json
import random
import select
import socket
import sys
import time

SOCK = sys.argv[1]
HELLO = b'{"protocol": 1, "client": "ctl_abuse"}\n'
MSG_MAX = 64 * 1024
CUT_OFF = 25.0          # seconds: every stalled client is cut off before
rng = random.Random(4)

MALFORMED = [
    b'{"command": 5}',
    b'[]',
    b'"status"',
    b'null',
    b'{"command": "status", "args": "web"}',
    b'{"command": "status", "args": [1]}',
    b'{"command": "status", "args": ["a b"]}',
    b'{"command": "status", "args": ["group:"]}',
    b'{"command": "status", "args": ["web:01"]}',
    b'{"command": "status", "args": ["' + b'a' * 200 + b'"]}',
    b'{"command": "nosuch"}',
    b'{"command": "start"}',
    b'{"command": "reload", "args": ["x"]}',
    b'{"command": "log", "args": ["web"], "lines": -1}',
    b'{"command": "log", "args": ["web"], "lines": 1e3}',
    b'{"command": "start", "args": ["web"], "timeout": 1e300}',
    b'{"command": "start", "args": ["web"], "timeout": -1}',
    b'{"command": "start", "args": ["web"], "wait": "yes"}',
    b'{"command": "signal", "args": ["web"], "signal": ""}',
    b'{"command": "signal", "args": ["web"]}',
    b'{"command": "status", "command": "status"}',
    b'{"command": "status"} trailing',
    b'{"command": "status\\u0000"}',
    b'{"command": "status", "args": ["\\ud800"]}',
    b'{"command": "status", "x": 99999999999999999999999999}',
    b'{"command": "status", "args": [' + b'"web",' * 1100 + b'"web"]}',
    b'[' * 5000 + b']' * 5000,
    b'{"a":' * 3000 + b'1' + b'}' * 3000,
    b'{"command": "status"',
    b'\xff\xfe{"command": "status"}',
    b'{"command": "st\xc3\x28atus"}',
    b'',
]


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(CUT_OFF)
    s.connect(SOCK)
    return s


def read_to_eof(s):
    """Everything until the server closes; None if it never does."""
    data = b''
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return data
            data += b
    except socket.timeout:
        return None
    except (ConnectionResetError, BrokenPipeError):
        return data


def last_error(data):
    """1 if the last complete message is a final error reply."""
    if data is None:
        return False
    lines = [l for l in data.split(b'\n') if l]
    if not lines:
        return False
    try:
        m = json.loads(lines[-1])
    except ValueError:
        return False
    return m.get('ok') is False and isinstance(m.get('error'), str)


def send(s, data):
    try:
        s.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False


def garbage_hello(i):
    s = connect()
    junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
    send(s, junk.replace(b'\n', b' ') + b'\n')
    ok = last_error(read_to_eof(s))
    s.close()
    return ok


def garbage_request(i):
    s = connect()
    junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000)))
    send(s, HELLO + junk.replace(b'\n', b' ') + b'\n')
    ok = last_error(read_to_eof(s))
    s.close()
    return ok


def malformed(i):
    s = connect()
    send(s, HELLO + MALFORMED[i % len(MALFORMED)] + b'\n')
    ok = last_error(read_to_eof(s))
    s.close()
    return ok


def oversized(i):
    s = connect()
    size = MSG_MAX + 10 if i % 3 else 1024 * 1024
    sent = send(s, HELLO + b'{"command": "status", "args": ["' + b'x' * size)
    data = read_to_eof(s)
    s.close()
    # A big write may meet the close first: a reset is a cut-off too.
    return data is not None and (last_error(data) or not sent)


def partial_close(i):
    s = connect()
    req = HELLO + b'{"command": "status"}\n'
    send(s, req[:rng.randrange(1, len(req) - 1)])
    s.close()
    return True


def partial_stall(i):
    s = connect()
    t = time.monotonic()
    if i % 2:
        send(s, HELLO + b'{"command": "sta')
    else:
        send(s, b'{"protocol"')
    data = read_to_eof(s)
    s.close()
    return data is not None and time.monotonic() - t < CUT_OFF


def slow(i):
    s = connect()
    for b in HELLO + b'{"command": "status", "args": ["web"]}\n':
        send(s, bytes([b]))
        time.sleep(0.01)
    data = b''
    while data.count(b'\n') < 3:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    lines = [json.loads(l) for l in data.split(b'\n') if l]
    return len(lines) == 3 and lines[-1].get('ok') is True and \
        lines[1]['service']['name'] == 'web'


def never_read(i):
    s = connect()
    send(s, HELLO + b'{"command": "status"}\n' * 3000)
    p = select.poll()
    p.register(s.fileno(), select.POLLHUP)
    hup = p.poll(CUT_OFF * 1000)
    s.close()
    return bool(hup)


KINDS = [
    (garbage_hello, 100),
    (garbage_request, 200),
    (malformed, 200),
    (oversized, 150),
    (partial_close, 100),
    (partial_stall, 100),
    (slow, 100),
    (never_read, 50),
]


def main():
    cases = [(fn, i) for fn, n in KINDS for i in range(n)]
    assert len(cases) == 1000
    rng.shuffle(cases)
    good = {fn.__name__: 0 for fn, _ in KINDS}
    bad = []
    t = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(100) as ex:
        futs = {ex.submit(fn, i): (fn, i) for fn, i in cases}
        for f in concurrent.futures.as_completed(futs):
            fn, i = futs[f]
            try:
                ok = f.result()
            except Exception as e:
                ok = False
                bad.append('%s %d: %r' % (fn.__name__, i, e))
            if ok:
                good[fn.__name__] += 1
            elif len(bad) < 20:
                bad.append('%s %d: misbehaved' % (fn.__name__, i))
    for fn, n in KINDS:
        print('%-16s %4d/%d' % (fn.__name__, good[fn.__name__], n))
    print('%d clients in %.1f s' % (len(cases), time.monotonic() - t))
    for b in bad:
        print('FAIL', b)
    return 0 if sum(good.values()) == len(cases) else 1


sys.exit(main())

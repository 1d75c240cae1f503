#!/usr/bin/python3
"""A real SMTP server for oncalld's tests (aiosmtpd).

Listens on 127.0.0.1:PORT, appends every received message to OUT (JSON lines: envelope, the
parsed headers and the decoded text body, and the raw message), and can refuse with a given
reply to RCPT or DATA. Prints "READY <port>" on stdout once it accepts connections, then
serves until killed.

    smtp_server.py --port 2525 --out mails.jsonl [--rcpt-reply "451 4.3.0 Try later"]
                   [--data-reply "550 5.7.1 Rejected"]
"""
import argparse
import email
import email.policy
import json
import signal
import socket
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out, rcpt_reply, data_reply):
        self.out = out
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        headers = {}
        for name, value in msg.items():
            headers.setdefault(name.lower(), []).append(str(value))
        body = msg.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": headers,
            "body": body.get_content() if body is not None else "",
            "raw": raw.decode("utf-8", "replace"),
            "received_at": time.time(),
        }
        with self.lock, open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return "250 Message accepted"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--rcpt-reply")
    p.add_argument("--data-reply")
    args = p.parse_args()
    port = args.port or free_port()
    handler = Handler(args.out, args.rcpt_reply, args.data_reply)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()  # returns once the server answers
    print(f"READY {port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # Also stop when the test that started us goes away (stdin closes).
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()

"""A local SMTP sink for the storm: accepts every message and writes one JSON line per message.

    python -m bench.storm.sink --port 2525 --out received.jsonl

Runs in its own process (the storm starts and stops it); aiosmtpd serves 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from email import message_from_bytes
from pathlib import Path

from aiosmtpd.controller import Controller


class Recorder:
    """aiosmtpd handler: one line per message with its Message-ID and recipients."""

    def __init__(self, out: Path):
        self.out = out.open("a", encoding="utf-8")
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        """Record the message and accept it."""
        message = message_from_bytes(envelope.original_content or envelope.content)
        line = json.dumps({"message_id": message.get("Message-ID", ""),
                           "to": list(envelope.rcpt_tos), "bytes": len(envelope.content)})
        with self.lock:
            self.out.write(line + "\n")
            self.out.flush()
        return "250 OK"


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m bench.storm.sink")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller = Controller(Recorder(args.out), hostname="127.0.0.1", port=args.port)
    controller.start()
    try:
        stop.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

"""Micro-benchmark of the access log: CPU time per request line, before and after.

``python -m bench.logline`` times, in one process and alternating so that a busy machine
weighs on both alike, the two ways of writing one access-log line to a file:

- before: ``Logger.info(..., extra=...)`` with the formatter as it was (``formatTime`` and
  the standard ``json``);
- now: ``observability.AccessRecord`` handed to the logger, with the current ``JsonFormatter``
  (orjson, the time to the second formatted once a second).

Both write through the same ``StreamHandler`` to the same file (flushed per line, as in
production). It prints microseconds per line, the best of several rounds.
"""

from __future__ import annotations

import json
import logging
import tempfile
import timeit

from partnership_api.observability import AccessRecord, JsonFormatter

FIELDS = {
    "method": "GET",
    "path": "/api/v1/beds/search",
    "status": 200,
    "duration_ms": 1.23,
    "request_id": "0f6c3b0e9a8d4c7e9b1a2d3c4e5f6a7b",
    "user_id": "6f1d0a52-2c1f-4f39-9a57-0b3c6f3f9a11",
    "remote_addr": "127.0.0.1",
}


class FormatterBefore(logging.Formatter):
    """The access log's formatter before issue 17, for comparison."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in JsonFormatter.FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        return json.dumps(line, default=str)


def main(lines: int = 20000, rounds: int = 7) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".log") as out:
        handler = logging.StreamHandler(out)
        before = logging.getLogger("bench.access.before")
        now = logging.getLogger("partnership_api.access")
        for logger in (before, now):
            logger.handlers[:] = [handler]
            logger.setLevel(logging.INFO)
            logger.propagate = False

        def write_before() -> None:
            handler.setFormatter(FormatterBefore())
            before.info("request", extra=FIELDS)

        def write_now() -> None:
            handler.setFormatter(JsonFormatter())
            now.handle(AccessRecord(FIELDS))

        best = {"before": [], "now": []}
        for _ in range(rounds):
            for name, write in (("before", write_before), ("now", write_now)):
                seconds = timeit.timeit(write, number=lines)
                best[name].append(seconds / lines * 1e6)
        for name, times in best.items():
            print(f"{name:7s} {min(times):6.2f} µs per access-log line (best of {rounds})")
        print(f"ratio   {min(best['now']) / min(best['before']):.2f}")


if __name__ == "__main__":
    main()

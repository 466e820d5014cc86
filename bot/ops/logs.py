"""`FOOTNOTE_LOG_FORMAT=json`: one JSON object per log line, for journald, `docker logs` and log shippers.

Only what a record already says is written (time, level, logger, message, exception): Footnote never logs secrets
(tokens and keys are `SecretStr`), so none can appear here either. Control characters are escaped by `json`.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def use_log_format(log_format: str) -> None:
    """Switch the root logger's handlers to JSON lines (`json`); `text` leaves them as they are."""
    if log_format != "json":
        return
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonFormatter())

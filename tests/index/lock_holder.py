"""Run in its own process by tests/index/test_lock.py: takes the ingest writer lock like `footnote ingest` does,
says HELD, and keeps it until its stdin closes (or it is killed), then says RELEASED.

    python -m tests.index.lock_holder DATA_DIR [--host H --port P] [--lease S] [--wait S]
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from index.errors import FootnoteError
from index.lock import WriterLock
from index.settings import Settings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--host")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--lease", type=float, default=60.0)
    parser.add_argument("--wait", type=float, default=0.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=args.data_dir, chroma_host=args.host, chroma_port=args.port,
        ingest_lease_s=args.lease, ingest_wait_s=args.wait,
    )
    try:
        with WriterLock(settings, settings.collection):
            print("HELD", flush=True)
            sys.stdin.read()
    except FootnoteError as err:
        print(f"REFUSED {err}", flush=True)
        return 2
    print("RELEASED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

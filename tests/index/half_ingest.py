"""Run in its own process by tests/index/test_two_machines.py: a `footnote ingest` that stops dead in the middle
of writing its chunks (the first Chroma add writes half its chunks, says HALF, then hangs until it is killed -9),
so that the test can look at exactly the state a crash leaves.

    python -m tests.index.half_ingest DATA_DIR HOST PORT LEASE_S PATH...
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from index.embeddings import LocalMiniLMEmbedding
from index.ingest import Ingestor
from index.settings import Settings
from index.store import VectorIndex


def main() -> None:
    data_dir, host, port, lease = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data_dir, chroma_host=host, chroma_port=port, ingest_lease_s=lease
    )
    real_add = VectorIndex.add

    def half_then_hang(self: VectorIndex, nodes: list[Any]) -> None:
        real_add(self, nodes[: max(1, len(nodes) // 2)])
        print("HALF", flush=True)
        while True:
            time.sleep(60)

    VectorIndex.add = half_then_hang  # type: ignore[method-assign]
    Ingestor(settings, LocalMiniLMEmbedding()).run([Path(p) for p in sys.argv[5:]])


if __name__ == "__main__":
    main()

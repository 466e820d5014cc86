"""One writer at a time (issue 14 item 3): two `footnote ingest` runs never interleave their writes.

- Same data dir (embedded or server mode): an exclusive `flock` on `<data dir>/ingest.lock`. The kernel releases
  it when the holder exits in any way, kill -9 included, so a stale lock cannot exist; the file only records who
  holds it, for the message.
- Server mode, any machine: a lease record in the collection's journal in Chroma (`index.journal`), renewed every
  third of its lifetime by a background thread; one that has not been renewed for `FOOTNOTE_INGEST_LEASE_S`
  (writer killed, machine gone) is taken over. Taking it is an insert-if-absent, and a stale lease is removed
  only while it still carries the dead writer's token, so two waiters cannot both win. Expiry compares the
  holder's clock with the waiter's: clocks must agree to well under the lease time (NTP does).

The second ingest waits up to `FOOTNOTE_INGEST_WAIT_S` (`--wait`), saying so once, then refuses with who holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from index.errors import DataDirError, FootnoteError, WriterBusyError
from index.journal import Journal
from index.settings import Settings
from index.store import check_writable

log = logging.getLogger(__name__)

LOCK_FILE = "ingest.lock"
POLL_S = 0.5


def _holder_text(holder: dict[str, Any]) -> str:
    bits = [f"pid {holder.get('pid', '?')}"]
    if holder.get("host"):
        bits.append(f"on {holder['host']}")
    if holder.get("started"):
        bits.append(f"since {holder['started']}")
    if holder.get("data_dir"):
        bits.append(f"data dir {holder['data_dir']}")
    return ", ".join(bits)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class WriterLock:
    """Context manager held for a whole ingest. `held()` says whether the lease is still ours (the journal checks
    it before every write)."""

    def __init__(
        self, settings: Settings, collection: str, *, wait_s: float | None = None,
        notify: Callable[[str], None] | None = None, journal: Journal | None = None,
    ) -> None:
        self.settings = settings
        self.collection = collection
        self.wait_s = settings.ingest_wait_s if wait_s is None else wait_s
        self.notify = notify or log.warning
        self.token = uuid.uuid4().hex
        self.journal = journal
        self._fd: int | None = None
        self._expires = 0.0
        self._lost = False
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._told = False
        self.holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": _now_iso(),
                       "data_dir": str(settings.data_dir.resolve()), "collection": collection}

    # --- public --------------------------------------------------------------------------------------------
    def __enter__(self) -> WriterLock:
        deadline = time.monotonic() + self.wait_s
        self._lock_data_dir(deadline)
        try:
            if self.settings.uses_chroma_server:
                if self.journal is None:
                    self.journal = Journal.open(self.settings, self.collection, create=True)
                self._take_lease(deadline)
        except BaseException:
            self._unlock_data_dir()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def held(self) -> bool:
        if not self.settings.uses_chroma_server:
            return self._fd is not None
        return not self._lost and time.time() < self._expires

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        if self.journal is not None and self._expires:
            try:
                self.journal.drop_lease(self.token)
            except FootnoteError as err:  # server gone: the lease expires by itself
                log.warning("could not release the writer lease (%s); it expires in %.0f s", err,
                            max(0.0, self._expires - time.time()))
            self._expires = 0.0
        self._unlock_data_dir()

    # --- data dir: flock -----------------------------------------------------------------------------------
    def _lock_data_dir(self, deadline: float) -> None:
        check_writable(self.settings.data_dir)
        path = self.settings.data_dir / LOCK_FILE
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise DataDirError(f"Cannot create the ingest lock {path} ({err.strerror or err}). Check the data "
                               "dir's permissions, or set FOOTNOTE_DATA_DIR.") from err
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    self._busy(_read_holder(path), deadline, f"the data dir {self.settings.data_dir}")
                    time.sleep(POLL_S)
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(self.holder) + "\n").encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _unlock_data_dir(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    # --- server: lease in the journal ----------------------------------------------------------------------
    def _lease_meta(self) -> dict[str, Any]:
        self._expires = time.time() + self.settings.ingest_lease_s
        meta: dict[str, Any] = {k: str(v) for k, v in self.holder.items()}
        meta.update(token=self.token, expires=self._expires)
        return meta

    def _take_lease(self, deadline: float) -> None:
        assert self.journal is not None
        while True:
            current = self.journal.lease()
            if current is None:
                current = self.journal.try_add_lease(self._lease_meta())
                if current is not None and current.get("token") == self.token:
                    break
                self._expires = 0.0
                continue
            overdue = time.time() - float(current.get("expires") or 0)
            if overdue > 0:
                log.warning("taking over a stale writer lease on collection %r (%s): not renewed for %.0f s past "
                            "its expiry; that ingest was killed or lost its connection",
                            self.collection, _holder_text(current), overdue)
                self.journal.drop_lease(str(current.get("token")))
                continue
            self._busy(current, deadline, f"collection {self.collection!r} on the Chroma server")
            time.sleep(min(1.0, max(0.05, overdue * -1)))
        self._renewer = threading.Thread(target=self._renew_loop, name="footnote-lease", daemon=False)
        self._renewer.start()

    def _renew_loop(self) -> None:
        assert self.journal is not None
        interval = self.settings.ingest_lease_s / 3
        while not self._stop.wait(interval):
            try:
                current = self.journal.lease()
                if current is None or current.get("token") != self.token:
                    self._lost = True
                    log.error("the writer lease on collection %r was taken over by %s", self.collection,
                              _holder_text(current or {}))
                    return
                self.journal.renew_lease(self._lease_meta())
            except FootnoteError as err:  # retried next tick; `held()` turns False once the lease has run out
                log.warning("could not renew the writer lease: %s", err)

    # --- waiting -------------------------------------------------------------------------------------------
    def _busy(self, holder: dict[str, Any], deadline: float, what: str) -> None:
        who = _holder_text(holder) or "another process"
        if time.monotonic() >= deadline:
            hint = ("run it again when that one has finished, or pass --wait SECONDS (FOOTNOTE_INGEST_WAIT_S) "
                    "to wait for it")
            raise WriterBusyError(f"Another `footnote ingest` is writing {what} ({who}): refusing to interleave "
                                  f"with it. {hint[0].upper()}{hint[1:]}.")
        if not self._told:
            self._told = True
            self.notify(f"Another `footnote ingest` is writing {what} ({who}); waiting up to "
                        f"{max(0.0, deadline - time.monotonic()):.0f} s for it to finish.")


def _read_holder(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text().strip()
        return dict(json.loads(text)) if text else {}
    except (OSError, ValueError):
        return {}

"""One writer at a time on an embedded data folder.

Embedded Chroma is not safe with two processes writing to one folder, so `coach serve` and the commands that write
(`ingest`, `remove`, `reindex`) hold an exclusive lock on `<data dir>/coach.lock`. With a Chroma server
(CHROMA_HOST) the folder holds no vectors and no lock is needed.
"""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from kernel.errors import CoachError


class DataDirBusy(CoachError):
    pass


@contextmanager
def exclusive_data_dir(data_dir: Path, needed: bool = True) -> Iterator[None]:
    if not needed:
        yield
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "coach.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise DataDirBusy(
                f"Another coach process (probably `coach serve`) is using {data_dir.resolve()}. Stop it and run this "
                "again, or run Chroma as a server (CHROMA_HOST) so several processes can share the knowledge base."
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

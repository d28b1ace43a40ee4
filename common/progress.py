"""A small progress bar for management commands (one line, redrawn in place)."""

import sys
import time


class Progress:
    def __init__(self, label: str, total: int, stream=None):
        self.label, self.total, self.done = label, max(total, 1), 0
        self.stream = stream or sys.stderr
        self.started = time.monotonic()

    def advance(self, n: int = 1) -> None:
        before = self.done * 100 // self.total
        self.done += n
        if self.done * 100 // self.total == before and self.done < self.total:
            return  # redraw only when the percentage moves
        width = 30
        filled = int(width * min(self.done, self.total) / self.total)
        elapsed = time.monotonic() - self.started
        self.stream.write(
            f"\r{self.label:<12} [{'#' * filled}{'.' * (width - filled)}] "
            f"{self.done}/{self.total} {elapsed:5.1f}s"
        )
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()

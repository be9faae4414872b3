"""Progress of the training commands, as a terminal shows it and as a log keeps it.

On a terminal each optimizer gets one line, rewritten in place (``\\r``) as
its runs go on and left standing with its result; elsewhere (a pipe, a
file, CI) a line is printed every few epochs of each run and at its end.
"""

from __future__ import annotations

__all__ = ["LINES_PER_RUN", "Progress"]

#: Lines a run prints when the stream is not a terminal (besides its last epoch).
LINES_PER_RUN = 6


def _shown(logs) -> str:
    return "  ".join(
        f"{k} {v:.4g}"
        for k, v in (logs or {}).items()
        if k in ("loss", "val_loss", "accuracy", "val_accuracy")
    )


class Progress:
    """Reports runs grouped by optimizer on ``stream``."""

    def __init__(self, stream, width: int = 40):
        self.stream = stream
        self.width = width
        isatty = getattr(stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self._open = False

    def _write(self, text: str, end: str = "\n"):
        if self.tty:
            text = "\r\x1b[2K" + text
        print(text, end=end, file=self.stream, flush=True)
        self._open = self.tty and end == ""

    def epoch(self, spec, run_label, epoch, epochs, logs, seconds):
        """After ``epoch`` (1-based) of ``epochs`` of one run."""
        text = (
            f"  {spec:{self.width}.{self.width}s} {run_label}epoch {epoch:3d}/{epochs}  "
            f"{_shown(logs)}  ({seconds:.1f} s)"
        )
        if self.tty:
            self._write(text, end="")
        elif epoch == epochs or epoch % max(1, epochs // LINES_PER_RUN) == 0:
            self._write(text)

    def done(self, spec, text):
        """An optimizer's runs are all done: its standing line."""
        self._write(f"  {spec:{self.width}.{self.width}s} {text}")

    def note(self, text):
        """A line of its own (ends a line being rewritten first)."""
        if self._open:
            print(file=self.stream, flush=True)
            self._open = False
        print(text, file=self.stream, flush=True)

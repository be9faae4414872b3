"""Where the commands write: result folders checked first, written whole or not at all.

- :func:`check_out_dir` refuses an ``--out`` that names an existing file
  (before any training, so the mistake costs nothing);
- :func:`staged` gives a temporary folder inside ``--out``; the files left
  in it are moved in place, each by one ``os.replace``, only when the block
  ends normally, with Ctrl-C deferred while they move, so an interrupted or
  failed run leaves nothing that looks like a result, and never a mixture of
  new files and an earlier run's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading

__all__ = ["check_out_dir", "deferred_interrupt", "staged"]


def check_out_dir(out: str, error) -> str:
    """``out`` if it is a folder or does not exist yet; otherwise raises
    ``error`` (one line naming it). Creates nothing."""
    path = os.path.abspath(out)
    if os.path.exists(path) and not os.path.isdir(path):
        raise error(f"--out {out}: is an existing file, not a folder")
    parent = path
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise error(f"--out {out}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise error(f"--out {out}: {parent} is not writable")
    return out


@contextlib.contextmanager
def deferred_interrupt():
    """Holds back Ctrl-C (SIGINT) for the block and raises it afterwards.

    Only in the main thread (where Python handles signals); elsewhere a
    plain block.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


@contextlib.contextmanager
def staged(out: str, error=None):
    """A temporary folder inside ``out`` (created if needed); on a normal
    exit every file written into it is moved to ``out``. The temporary
    folder is removed in every case."""
    if error is not None:
        check_out_dir(out, error)
    try:
        os.makedirs(os.path.abspath(out), exist_ok=True)
    except OSError as exc:
        if error is None:
            raise
        raise error(f"--out {out}: {exc.strerror or exc}") from None
    tmp = tempfile.mkdtemp(prefix=".staging-", dir=os.path.abspath(out))
    try:
        yield tmp
        names = sorted(os.listdir(tmp))
        with deferred_interrupt():
            for name in names:
                os.replace(os.path.join(tmp, name), os.path.join(out, name))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

"""Helpers for integration tests: real commands with timeouts."""
import os
import subprocess
import time


def run(cmd, timeout=10, check=False, **kw):
    """Runs a real command (list, or a string for sh -c) with a timeout."""
    shell = isinstance(cmd, str)
    return subprocess.run(cmd, shell=shell, capture_output=True, text=True,
                          timeout=timeout, check=check, **kw)


def vim_substitute(path, old, new, backupcopy, options=""):
    """Edits path with vim as a user would (:%s/old/new/, then :wq), with
    no vimrc; backupcopy and the other :set options decide how vim writes
    the file back."""
    with open(os.devnull) as null:
        return run(["vim", "-u", "NONE", "-N", "-es", "-i", "NONE",
                    "-c", f"set backupcopy={backupcopy} {options}".rstrip(),
                    "-c", f"%s/{old}/{new}/", "-c", "wq", path],
                   timeout=30, stdin=null)


def wait_for(pred, timeout=5.0, interval=0.02):
    """Polls pred() until it is truthy; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


def read(path):
    with open(path) as f:
        return f.read()


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def errno_of(fn, *args):
    """The errno fn(*args) fails with; fails the test if it succeeds."""
    try:
        fn(*args)
    except OSError as e:
        return e.errno
    raise AssertionError(f"{getattr(fn, '__name__', fn)}{args} succeeded")

"""Helpers for the install and mount-helper tests: `meson install` into a
temporary DESTDIR, and commands run in a private mount namespace where that
DESTDIR's prefix is bound over the real prefix, so the installed files are
exactly where an installation would put them (mount(8) runs helpers without
PATH; mount.fuse3 then finds `partnerfs` only in /usr/local/bin, /usr/bin,
/bin ...). Nothing outside the namespace changes.
"""
import json
import os
import shutil
import signal
import subprocess

from conftest import BUILD


def meson_info(what):
    out = subprocess.run(["meson", "introspect", BUILD, what],
                         capture_output=True, text=True, timeout=60,
                         check=True).stdout
    return json.loads(out)


class Installed:
    """An installation of the build under test into DESTDIR."""

    def __init__(self, destdir):
        subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild",
                        "--quiet", "--destdir", destdir],
                       capture_output=True, text=True, timeout=120,
                       check=True)
        opts = {o["name"]: o["value"] for o in meson_info("--buildoptions")}
        self.destdir = destdir
        self.prefix = opts["prefix"]
        self.version = meson_info("--projectinfo")["version"]

        def real(opt):
            return os.path.join(self.prefix, opts[opt])
        self.bindir = real("bindir")
        self.sbindir = real("sbindir")
        self.mandir = real("mandir")
        self.examples = os.path.join(real("datadir"), "doc", "partnerfs",
                                     "examples")

    def staged(self, path):
        """Where an installed path is in DESTDIR."""
        return self.destdir + path


def install_fixture(tmp_path_factory):
    return Installed(str(tmp_path_factory.mktemp("destdir")))


def namespace_usable(inst):
    """Whether ns_run can work here: root, unshare, and the default prefix
    (binding a DESTDIR over /usr itself would hide the tools we run)."""
    if os.geteuid() != 0:
        return "needs root (a private mount namespace)"
    if not shutil.which("unshare"):
        return "needs unshare(1)"
    if inst.prefix != "/usr/local":
        return f"prefix is {inst.prefix}, not /usr/local"
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                       capture_output=True, timeout=10)
    if r.returncode != 0:
        return "cannot create a mount namespace"
    return None


def ns_script(inst, body):
    """A bash script: bind the installed prefix, then body."""
    return ("set -eu\n"
            f"mount --bind '{inst.staged(inst.prefix)}' '{inst.prefix}'\n"
            + body)


def ns_run(inst, body, timeout=60, env=None):
    return subprocess.run(["unshare", "-m", "--propagation", "private",
                           "bash", "-c", ns_script(inst, body)],
                          capture_output=True, text=True, timeout=timeout,
                          env=env)


def processes_naming(marker):
    """Processes whose command line names marker, a unique temporary path
    that only processes a test started carry."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmd:
            found.append((int(pid), cmd))
    return found


def kill_leftovers(marker):
    for pid, _ in processes_naming(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass



"""The Debian package, as a user meets it: `dpkg-buildpackage -us -uc -b`
gives partnerfs_<version>_amd64.deb, with the binary, the man page, both
mount helpers and the examples, and lintian reports no error; `apt-get
install ./partnerfs_*.deb` installs it; an /etc/fstab line of type
fuse.partnerfs mounts the emulator with `mount /mnt/...` through the
installed files only (and `mount -t partnerfs` too), `umount` unmounts;
so does a line of the product ingestion API (api=ingestion, its jobs in a
state_dir=); `apt-get purge partnerfs` leaves nothing behind. And the version is one:
`partnerfs -V`, meson's project version and debian/changelog agree, and
a package build stops when they do not.

The package is built in a temporary copy of the tracked files, so nothing
is left in the tree. The package tests change the machine (they install a
package, add a line to /etc/fstab, mount under /mnt) and put it back in
finally blocks; they run only as root with dpkg-buildpackage and
debhelper, and not with PARTNERFS_SKIP_PACKAGE=1 (tools/test's sanitizer
pass: the package is built without sanitizers, the normal pass tested it).
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import EMULATOR, ING_SEED, PARTNERFS, REPO
from installed import kill_leftovers, processes_naming
from util import run

# What mount(8) runs with, so only installed files are found.
SYSTEM_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8",
              "DEBIAN_FRONTEND": "noninteractive"}
EXAMPLES = ["fstab.example", "mnt-cpp.mount", "mnt-cpp.automount",
            "partnerfs@.service", "cpp-operation.path",
            "cpp-operation.service", "mnt-pc.mount", "mnt-pc.automount",
            "pc-job.path", "pc-job.service"]


def meson_version():
    out = run(["meson", "introspect", "--projectinfo",
               os.path.join(REPO, "meson.build")], timeout=60,
              check=True).stdout
    return json.loads(out)["version"]


def changelog_version():
    """debian/changelog's latest version, e.g. 0.2.0-1."""
    path = os.path.join(REPO, "debian", "changelog")
    with open(path) as f:
        first = f.readline()
    m = re.match(r"partnerfs \(([^)]+)\) ", first)
    assert m, first
    return m.group(1)


def upstream(version):
    """0.2.0 of 0.2.0-1 (or of 1:0.2.0-1)."""
    return version.split(":", 1)[-1].rsplit("-", 1)[0]


def test_version_is_the_same_in_partnerfs_meson_and_debian_changelog():
    r = run([PARTNERFS, "-V"])
    assert r.returncode == 0, r.stderr
    shown = r.stdout.splitlines()[0]
    assert shown == f"partnerfs {meson_version()}"
    assert shown == f"partnerfs {upstream(changelog_version())}"


def test_package_build_stops_when_the_changelog_names_another_version(
        tmp_path):
    if not (shutil.which("dpkg-buildpackage") and shutil.which("dh")):
        pytest.skip("needs dpkg-buildpackage and debhelper "
                    "(tools/install-deps)")
    src = tmp_path / "partnerfs"
    copy_tracked_files(str(src))
    changelog = src / "debian" / "changelog"
    text = changelog.read_text()
    changelog.write_text(text.replace(f"partnerfs ({changelog_version()})",
                                      "partnerfs (9.9.9-1)", 1))
    r = run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src,
            timeout=120)
    assert r.returncode != 0
    assert (f"meson.build says {meson_version()}, debian/changelog 9.9.9"
            in r.stdout + r.stderr)
    assert not list(tmp_path.glob("*.deb"))


def why_no_package():
    if os.environ.get("PARTNERFS_SKIP_PACKAGE") == "1":
        return "PARTNERFS_SKIP_PACKAGE=1 (the normal pass tests the package)"
    if os.geteuid() != 0:
        return "needs root (installs a package, edits /etc/fstab, mounts)"
    for tool, pkg in [("dpkg-buildpackage", "dpkg-dev"), ("dh", "debhelper"),
                      ("apt-get", "apt"), ("mount.fuse3", "fuse3")]:
        if not shutil.which(tool):
            return f"needs {tool} ({pkg}; tools/install-deps)"
    if not os.path.exists("/dev/fuse"):
        return "needs /dev/fuse"
    if not os.path.exists(EMULATOR):
        return "needs the emulator in the build under test"
    r = run(["dpkg-query", "-W", "-f=${db:Status-Status}", "partnerfs"])
    if r.returncode == 0 and r.stdout not in ("", "not-installed"):
        return (f"partnerfs is {r.stdout} on this machine: the test would "
                "replace and purge it")
    return None


class Package:
    """The .deb and .changes built from a copy of the tree."""

    def __init__(self, out):
        self.out = out
        self.version = meson_version()
        self.deb_version = changelog_version()
        debs = [n for n in os.listdir(out) if n.endswith("_amd64.deb")
                and not n.startswith("partnerfs-dbgsym")]
        assert debs == [f"partnerfs_{self.deb_version}_amd64.deb"], debs
        self.deb = debs[0]
        self.changes = self.deb[:-len(".deb")] + ".changes"

    def path(self, name):
        return os.path.join(self.out, name)


def copy_tracked_files(dest):
    """The files git tracks, as they are in the working tree."""
    names = run(["git", "ls-files", "-z"], cwd=REPO, timeout=30,
                check=True).stdout.split("\0")
    for name in filter(None, names):
        src = os.path.join(REPO, name)
        if not os.path.lexists(src):
            continue
        os.makedirs(os.path.dirname(os.path.join(dest, name)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, name), follow_symlinks=False)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    why = why_no_package()
    if why:
        pytest.skip(why)
    out = str(tmp_path_factory.mktemp("package"))
    src = os.path.join(out, "partnerfs")
    copy_tracked_files(src)
    env = dict(os.environ, DEB_BUILD_OPTIONS=(
        f"nocheck parallel={os.cpu_count() or 1}"))
    with open(os.path.join(out, "build.log"), "w") as log:
        r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"],
                           cwd=src, stdout=log, stderr=subprocess.STDOUT,
                           timeout=240, env=env)
    if r.returncode != 0:
        with open(os.path.join(out, "build.log")) as f:
            pytest.fail("dpkg-buildpackage failed:\n" + f.read()[-4000:])
    return Package(out)


def deb_field(pkg, field):
    return run(["dpkg-deb", "-f", pkg.path(pkg.deb), field],
               check=True).stdout.strip()


@pytest.mark.timeout(300)
def test_package_ships_binary_man_pages_helpers_examples_and_docs(package):
    files = run(["dpkg-deb", "-c", package.path(package.deb)],
                check=True).stdout
    names = {line.split()[5][1:] for line in files.splitlines()}
    for path in ["/usr/bin/partnerfs", "/usr/sbin/mount.partnerfs",
                 "/usr/sbin/mount.fuse.partnerfs",
                 "/usr/share/man/man1/partnerfs.1.gz",
                 "/usr/share/man/man8/mount.partnerfs.8.gz",
                 "/usr/share/doc/partnerfs/copyright",
                 "/usr/share/doc/partnerfs/changelog.Debian.gz"] + [
            "/usr/share/doc/partnerfs/examples/" + e for e in EXAMPLES]:
        assert path in names, path
    # The test fixture is not packaged.
    assert not [n for n in names if "emulator" in n]
    assert deb_field(package, "Version") == package.deb_version
    assert upstream(package.deb_version) == package.version
    depends = [d.split()[0] for d in
               deb_field(package, "Depends").split(", ")]
    assert "fuse3" in depends and "libfuse3-3" in depends
    assert "libmicrohttpd12" not in depends


def justified_warnings():
    """The lintian tags debian/README.source lists and justifies."""
    with open(os.path.join(REPO, "debian", "README.source")) as f:
        return set(re.findall(r"^\s+W: partnerfs: (\S+)", f.read(), re.M))


@pytest.mark.timeout(300)
def test_lintian_reports_no_error_and_only_the_justified_warnings(package):
    if not shutil.which("lintian"):
        pytest.skip("lintian not installed (tools/install-deps)")
    r = run(["lintian", "--pedantic", "-I", package.changes, package.deb],
            cwd=package.out, timeout=240)
    tags = [line for line in r.stdout.splitlines()
            if re.match(r"[EWIPX]: ", line)]
    assert not [t for t in tags if t.startswith("E:")], r.stdout
    warned = {t.split()[2] for t in tags if t.startswith("W:")}
    assert warned <= justified_warnings(), r.stdout


def etc_files():
    found = set()
    for top, dirs, files in os.walk("/etc"):
        found.update(os.path.join(top, n) for n in dirs + files)
    return found


def daemon_exe(mnt):
    """The program of the partnerfs daemon that serves mnt."""
    for pid, cmd in processes_naming(mnt):
        if "partnerfs" in cmd.split()[0]:
            try:
                return os.readlink(f"/proc/{pid}/exe")
            except OSError:
                pass
    return None


def wait_daemon_gone(mnt, timeout=10):
    deadline = time.monotonic() + timeout
    while daemon_exe(mnt):
        assert time.monotonic() < deadline, "daemon still running"
        time.sleep(0.05)


def system(cmd, timeout=60, **kw):
    """A command with the system's PATH only, as mount(8) from a shell."""
    return run(cmd, timeout=timeout, env=SYSTEM_ENV, **kw)


def check_mounted_by_the_package(mnt):
    assert run(["findmnt", "-n", "-o", "FSTYPE", "--mountpoint",
                mnt]).stdout.strip() == "fuse.partnerfs"
    assert daemon_exe(mnt) == "/usr/bin/partnerfs"


def check_mounted_tree(mnt, version):
    check_mounted_by_the_package(mnt)
    r = system(["ls", os.path.join(mnt, "publishers")])
    assert r.stdout.split() == ["contoso", "fabrikam", "northwind"]
    r = system(["cat", os.path.join(mnt, "publishers", "contoso", "offers",
                                    "contoso-vm", "status")])
    assert r.stdout == "succeeded\n"
    with open(os.path.join(mnt, ".partnerfs", "version")) as f:
        assert f.readline() == f"partnerfs {version}\n"


@pytest.mark.timeout(300)
def test_installed_package_mounts_from_fstab_and_purges_clean(
        package, make_emulator, tmpdir_short):
    # One emulator serves both APIs: the CPP one at /api, the product
    # ingestion API at /rp/product-ingestion.
    emu = make_emulator("--ingestion-seed", ING_SEED)
    tok = os.path.join(tmpdir_short, "token")
    with open(tok, "w") as f:
        f.write("sandbox-token\n")
    os.chmod(tok, 0o600)
    had_fstab = os.path.exists("/etc/fstab")
    fstab_copy = os.path.join(tmpdir_short, "fstab.orig")
    if had_fstab:
        shutil.copy2("/etc/fstab", fstab_copy)
    etc_before = etc_files()
    mnt = tempfile.mkdtemp(prefix="partnerfs-test-", dir="/mnt")
    ing_mnt = tempfile.mkdtemp(prefix="partnerfs-test-ing-", dir="/mnt")
    opts = f"endpoint={emu.url},token_file={tok}"
    state = os.path.join(tmpdir_short, "state")
    ing_opts = (f"endpoint={emu.url}/rp/product-ingestion,api=ingestion,"
                f"token_file={tok},state_dir={state}")
    try:
        r = system(["apt-get", "install", "-y", "--no-install-recommends",
                    "./" + package.deb], cwd=package.out, timeout=180)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr
        installed = system(["dpkg", "-L", "partnerfs"],
                           check=True).stdout.split("\n")
        installed = [p for p in installed if p.startswith("/")]
        assert "/usr/sbin/mount.fuse.partnerfs" in installed
        dirs = {p for p in installed if os.path.isdir(p)
                and not os.path.islink(p)}
        r = system(["man", "-w", "partnerfs"])
        assert r.stdout.strip() == "/usr/share/man/man1/partnerfs.1.gz"

        # An fstab line, mounted by mount(8) through mount.fuse.partnerfs.
        with open("/etc/fstab", "a") as f:
            f.write(f"none {mnt} fuse.partnerfs noauto,_netdev,{opts} 0 0\n")
        r = system(["mount", mnt])
        assert r.returncode == 0, r.stderr
        check_mounted_tree(mnt, package.version)
        r = system(["umount", mnt])
        assert r.returncode == 0, r.stderr
        assert not os.path.ismount(mnt)
        wait_daemon_gone(mnt)

        # The type without fuse., through mount.partnerfs.
        r = system(["mount", "-t", "partnerfs", "none", mnt, "-o", opts])
        assert r.returncode == 0, r.stderr
        check_mounted_tree(mnt, package.version)
        r = system(["umount", mnt])
        assert r.returncode == 0, r.stderr
        wait_daemon_gone(mnt)

        # The product ingestion API from an fstab line too.
        with open("/etc/fstab", "a") as f:
            f.write(f"none {ing_mnt} fuse.partnerfs "
                    f"noauto,_netdev,{ing_opts} 0 0\n")
        r = system(["mount", ing_mnt])
        assert r.returncode == 0, r.stderr
        check_mounted_by_the_package(ing_mnt)
        r = system(["ls", os.path.join(ing_mnt, "products")])
        assert r.stdout.split() == [
            "contoso-draft", "contoso-nosku", "contoso-saas", "contoso-vm",
            "fabrikam-saas", "northwind-vm"], r.stdout + r.stderr
        r = system(["cat", os.path.join(ing_mnt, "products", "contoso-vm",
                                        "status")])
        assert r.stdout == "succeeded\n", r.stdout + r.stderr
        r = system(["umount", ing_mnt])
        assert r.returncode == 0, r.stderr
        assert not os.path.ismount(ing_mnt)
        wait_daemon_gone(ing_mnt)

        r = system(["apt-get", "purge", "-y", "partnerfs"], timeout=180)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr
        r = run(["dpkg-query", "-W", "-f=${db:Status-Status}", "partnerfs"])
        assert r.returncode != 0 or r.stdout in ("", "not-installed"), \
            r.stdout
        left = [p for p in installed if os.path.lexists(p) and p not in dirs]
        assert left == []
        assert [d for d in dirs if "partnerfs" in d and
                os.path.lexists(d)] == []
        assert sorted(etc_files() - etc_before) == []
    finally:
        for m in (mnt, ing_mnt):
            if os.path.ismount(m):
                run(["umount", "-l", m])
            kill_leftovers(m)
        if had_fstab:
            shutil.copy2(fstab_copy, "/etc/fstab")
        elif os.path.exists("/etc/fstab"):
            os.unlink("/etc/fstab")
        os.rmdir(mnt)
        os.rmdir(ing_mnt)
        r = run(["dpkg-query", "-W", "-f=${db:Status-Status}", "partnerfs"])
        if r.returncode == 0 and r.stdout not in ("", "not-installed"):
            system(["apt-get", "purge", "-y", "partnerfs"], timeout=180)

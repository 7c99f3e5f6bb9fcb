"""mount(8), fstab and the mount helper, for real: `mount -t fuse.partnerfs`
and an fstab line (with noauto, _netdev, x-systemd.automount) mount the
emulator and `umount` unmounts it; and the sandbox works as an unprivileged
user. Each runs in a private mount namespace where the installed prefix
(a DESTDIR) is bound over /usr/local, so mount.fuse3 finds `partnerfs`
as on an installed system and nothing outside changes. Every command has a
timeout; the mount is unmounted and the daemon killed in a finally."""
import os
import pwd
import shutil
import signal
import subprocess
import time

import pytest

from conftest import REPO
from installed import (install_fixture, kill_leftovers, namespace_usable,
                       ns_run, processes_naming)

pytestmark = pytest.mark.skipif(not shutil.which("mount.fuse3"),
                                reason="mount.fuse3 (fuse3) not installed")


@pytest.fixture(scope="module")
def inst(tmp_path_factory):
    i = install_fixture(tmp_path_factory)
    why = namespace_usable(i)
    if why:
        pytest.skip(why)
    return i


@pytest.fixture
def target(tmpdir_short):
    """A mountpoint and a token file; afterwards, whatever a test left
    behind that names them is killed."""
    mnt = os.path.join(tmpdir_short, "mnt")
    os.makedirs(mnt, exist_ok=True)
    tok = os.path.join(tmpdir_short, "token")
    with open(tok, "w") as f:
        f.write("sandbox-token\n")
    os.chmod(tok, 0o600)
    yield mnt, tok
    kill_leftovers(mnt)


# Runs after the checks, whatever happened: umount, then wait for the
# daemon (named by the mountpoint on its command line) to exit.
CHECK_GONE = r"""
gone() {
    for _ in $(seq 100); do
        pgrep -f -- "partnerfs.* $MNT" >/dev/null || { echo daemon-exited; return; }
        sleep 0.05
    done
    echo daemon-still-running
}
"""


def ns(inst, mnt, tok, url, body, timeout=60):
    script = (f"MNT='{mnt}'\nTOK='{tok}'\nURL='{url}'\n" + CHECK_GONE +
              "trap 'umount -l \"$MNT\" 2>/dev/null || true' EXIT\n" + body)
    r = ns_run(inst, script, timeout=timeout)
    return r


def test_mount_t_fuse_partnerfs_mounts_and_umount_unmounts(inst, emu, target):
    mnt, tok = target
    r = ns(inst, mnt, tok, emu.url, r"""
mount -t fuse.partnerfs none "$MNT" \
    -o "endpoint=$URL,token_file=$TOK,noauto,_netdev,x-systemd.automount"
echo "type: $(findmnt -n -o FSTYPE --mountpoint "$MNT")"
ls "$MNT/publishers"
cat "$MNT/publishers/contoso/offers/contoso-vm/status"
umount "$MNT"
mountpoint -q "$MNT" && echo still-mounted
gone
""")
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout.split("\n")
    assert "type: fuse.partnerfs" in out
    assert "contoso" in out and "northwind" in out
    assert "succeeded" in out
    assert "still-mounted" not in out
    assert "daemon-exited" in out


def test_fstab_line_mounts_with_systemd_and_netdev_words(inst, emu, target,
                                                         tmp_path):
    mnt, tok = target
    fstab = tmp_path / "fstab"
    fstab.write_text(
        "# partnerfs, as in share/doc/partnerfs/examples/fstab.example\n"
        f"none {mnt} fuse.partnerfs noauto,x-systemd.automount,"
        f"x-systemd.idle-timeout=10min,_netdev,endpoint={emu.url},"
        f"token_file={tok},poll_interval=1 0 0\n")
    r = ns(inst, mnt, tok, emu.url, f"""
# noauto: mount -a leaves it alone.
mount --fstab '{fstab}' -a
mountpoint -q "$MNT" && echo mounted-by-mount-a
mount --fstab '{fstab}' "$MNT"
findmnt -n -o FSTYPE --mountpoint "$MNT"
cat "$MNT/.partnerfs/config"
umount "$MNT"
gone
""")
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout.split("\n")
    assert "mounted-by-mount-a" not in out
    assert "fuse.partnerfs" in out
    assert f"endpoint={emu.url}" in out
    assert "poll_interval=1" in out
    assert "daemon-exited" in out


def test_mount_partnerfs_helper_as_mount_calls_it(inst, emu, target):
    mnt, tok = target
    helper = os.path.join(inst.sbindir, "mount.partnerfs")
    # mount(8) runs /sbin/mount.TYPE SOURCE DIR -o OPTIONS without PATH.
    r = ns(inst, mnt, tok, emu.url, f"""
env -i '{helper}' none "$MNT" -n -o "rw,endpoint=$URL,token_file=$TOK" -t partnerfs
findmnt -n -o FSTYPE --mountpoint "$MNT"
ls "$MNT/publishers/contoso/offers"
umount "$MNT"
gone
""")
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout.split("\n")
    assert "fuse.partnerfs" in out
    assert "contoso-vm" in out
    assert "daemon-exited" in out


def test_failed_mount_reports_one_line_and_mounts_nothing(inst, target):
    mnt, tok = target
    r = ns(inst, mnt, tok, "http://127.0.0.1:1", r"""
set +e
mount -t fuse.partnerfs none "$MNT" -o "endpoint=$URL,token_file=$TOK"
echo "rc=$?"
mountpoint -q "$MNT" && echo mounted
true
""")
    assert "rc=0" not in r.stdout and "rc=" in r.stdout, r.stdout + r.stderr
    assert "mounted" not in r.stdout.split("\n")
    assert "partnerfs: http://127.0.0.1:1: " in r.stderr


def _source_files():
    """The clone's files, relative to REPO: what git tracks plus untracked
    files it does not ignore (so a test run sees uncommitted work), or, if
    this is not a git checkout, every file but .git, caches and build
    directories (a directory with build.ninja or meson-private)."""
    if shutil.which("git"):
        # safe.directory: the clone may belong to another user than root.
        r = subprocess.run(["git", "-c", "safe.directory=*", "-C", REPO,
                            "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"],
                           capture_output=True, timeout=60)
        if r.returncode == 0 and r.stdout:
            return [os.fsdecode(f) for f in r.stdout.split(b"\0") if f]
    files = []
    for d, dirs, names in os.walk(REPO):
        dirs[:] = [x for x in dirs
                   if x not in (".git", "__pycache__", ".pytest_cache")
                   and not os.path.exists(os.path.join(d, x, "build.ninja"))
                   and not os.path.isdir(os.path.join(d, x, "meson-private"))]
        files += [os.path.relpath(os.path.join(d, n), REPO) for n in names]
    return files


def copy_for_everyone(dest):
    """Copies the clone to dest with modes any user can read (directories
    0755, files 0644 or 0755 if executable): the clone itself may sit where
    `nobody` cannot reach it (cloned into /root, mode 0700) or have been
    checked out under umask 077."""
    os.makedirs(dest)
    for rel in _source_files():
        src = os.path.join(REPO, rel)
        if not os.path.lexists(src):
            continue  # tracked but deleted in the work tree
        if os.path.isdir(src) and not os.path.islink(src):
            continue  # a submodule: the sandbox needs none
        dst = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)
        if not os.path.islink(dst):
            os.chmod(dst, 0o755 if os.stat(src).st_mode & 0o100 else 0o644)
    for d, dirs, _ in os.walk(dest):
        os.chmod(d, 0o755)


@pytest.mark.timeout(240)
def test_sandbox_runs_as_an_unprivileged_user(tmpdir_short):
    """mount-helpers/sandbox as `nobody`: installs nothing, builds in a
    directory of its own (the clone is not writable), mounts through the
    setuid fusermount3, and Ctrl-C unmounts and cleans up. It runs from a
    copy of the clone that the user nobody can reach, wherever the clone
    is."""
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root and runuser to become nobody")
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    if not os.stat(shutil.which("fusermount3")).st_mode & 0o4000:
        pytest.skip("fusermount3 is not setuid: FUSE does not allow users")
    import pathlib
    tmp_path = pathlib.Path(tmpdir_short)
    os.chmod(tmp_path, 0o755)  # nobody walks to the mountpoint
    base = tmp_path / "sbx"
    base.mkdir()
    os.chmod(base, 0o755)
    mnt = base / "mnt"
    mnt.mkdir()
    os.chown(mnt, pwd.getpwnam("nobody").pw_uid, -1)
    # The sandbox runs from a copy: nobody may not be able to reach the
    # clone, and a copy owned by root is as unwritable as the test needs.
    src = base / "src"
    copy_for_everyone(str(src))
    sandbox = src / "mount-helpers" / "sandbox"
    r = subprocess.run(["runuser", "-u", "nobody", "--", "test", "-x",
                        str(sandbox)], capture_output=True, timeout=10)
    if r.returncode != 0:
        # Only a parent of the temporary directory ($TMPDIR) can deny it.
        pytest.skip(f"nobody cannot execute {sandbox}: a parent directory"
                    " of the temporary directory denies search (set TMPDIR)")
    prelude = ""
    if (os.stat("/dev/fuse").st_mode & 0o006) != 0o006:
        # Debian makes /dev/fuse 0666; containers often do not. Give the
        # namespace a 0666 node of the same device.
        node = base / "fuse"
        st = os.stat("/dev/fuse")
        os.mknod(node, 0o666 | 0o020000, st.st_rdev)
        os.chmod(node, 0o666)
        prelude = f"mount --bind '{node}' /dev/fuse\n"
    log = open(tmp_path / "sandbox.out", "w")
    env = dict(os.environ, SANDBOX_STEP_MS="200")
    proc = subprocess.Popen(
        ["unshare", "-m", "--propagation", "private", "bash", "-c",
         prelude + f"exec runuser -u nobody -- '{sandbox}'"
         f" '{mnt}'"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True, env=env)

    def inside(*cmd, timeout=10):
        return subprocess.run(["nsenter", "-t", str(proc.pid), "-m",
                               "runuser", "-u", "nobody", "--"] + list(cmd),
                              capture_output=True, text=True,
                              timeout=timeout)
    try:
        deadline = time.monotonic() + 180
        while inside("mountpoint", "-q", str(mnt)).returncode != 0:
            assert proc.poll() is None, open(tmp_path / "sandbox.out").read()
            assert time.monotonic() < deadline, "sandbox did not mount"
            time.sleep(0.2)
        r = inside("ls", str(mnt / "publishers"))
        assert r.stdout.split() == ["contoso", "fabrikam", "northwind"]
        r = inside("cat", str(mnt / "publishers/contoso/offers/contoso-vm/status"))
        assert r.stdout == "succeeded\n"
        # Ctrl-C: SIGINT to the whole process group.
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        out = open(tmp_path / "sandbox.out").read()
        assert "mounted on " + str(mnt) in out
        assert "apt-get" not in out
        assert not processes_naming(str(mnt))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        kill_leftovers(str(mnt))
        log.close()

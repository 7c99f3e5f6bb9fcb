"""`meson install` into a temporary DESTDIR: the files land where they
should, the installed binary runs (-V, -h, a mount against the emulator),
the man page renders without warnings and documents every option and file,
and the example systemd units pass `systemd-analyze verify`; tools/release
refuses uncommitted changes and (slow, PARTNERFS_TEST_DIST=1) makes a
tarball that builds and passes its unit tests."""
import glob
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import REPO
from installed import install_fixture, meson_info, namespace_usable, ns_run
from util import run

MAN_SRC = os.path.join(REPO, "doc", "partnerfs.1")
EXAMPLES = ["fstab.example", "mnt-cpp.mount", "mnt-cpp.automount",
            "partnerfs@.service", "cpp-operation.path",
            "cpp-operation.service", "mnt-pc.mount", "mnt-pc.automount",
            "pc-job.path", "pc-job.service"]


@pytest.fixture(scope="module")
def inst(tmp_path_factory):
    return install_fixture(tmp_path_factory)


def render_man(path):
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    return subprocess.run(["man", "--warnings", "-l", path],
                          capture_output=True, text=True, timeout=30,
                          env=env)


def test_install_puts_binary_man_page_helper_and_examples_in_place(inst):
    binary = inst.staged(os.path.join(inst.bindir, "partnerfs"))
    helper = inst.staged(os.path.join(inst.sbindir, "mount.partnerfs"))
    assert os.access(binary, os.X_OK)
    assert os.access(helper, os.X_OK)
    # mount(8) tries mount.fuse.partnerfs first for -t fuse.partnerfs.
    assert os.readlink(inst.staged(os.path.join(
        inst.sbindir, "mount.fuse.partnerfs"))) == "mount.partnerfs"
    assert os.path.isfile(inst.staged(os.path.join(inst.mandir, "man1",
                                                   "partnerfs.1")))
    for name in EXAMPLES:
        assert os.path.isfile(inst.staged(os.path.join(inst.examples, name))), name
    # Test tools are not installed.
    assert not os.path.exists(inst.staged(os.path.join(
        inst.bindir, "cloudpartner-emulator")))


def test_installed_files_name_the_installed_binary(inst):
    helper = open(inst.staged(os.path.join(inst.sbindir,
                                           "mount.partnerfs"))).read()
    unit = open(inst.staged(os.path.join(inst.examples,
                                         "partnerfs@.service"))).read()
    assert f"PATH={inst.bindir}:" in helper
    assert f"ExecStart={inst.bindir}/partnerfs " in unit
    assert "@BINDIR@" not in helper + unit


def test_installed_binary_prints_versions(inst):
    r = run([inst.staged(os.path.join(inst.bindir, "partnerfs")), "-V"])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"partnerfs {inst.version}"
    assert [line.split()[0] for line in lines[1:]] == ["libfuse", "libcurl",
                                                       "json-c"]


def test_installed_binary_help_is_sshfs_style(inst):
    r = run([inst.staged(os.path.join(inst.bindir, "partnerfs")), "-h"])
    assert r.returncode == 0
    assert r.stdout.startswith("usage: partnerfs [none] mountpoint [options]\n")
    assert "partnerfs options:" in r.stdout
    assert "FUSE options:" in r.stdout
    assert r.stderr == ""


def test_bad_option_is_one_line_and_exit_1(inst):
    r = run([inst.staged(os.path.join(inst.bindir, "partnerfs")),
             "-o", "poll_interval=soon", "/tmp"])
    assert r.returncode == 1
    assert r.stderr.splitlines()[-1] == "see 'partnerfs -h' for usage"
    assert r.stderr.startswith("partnerfs: ")


def test_installed_binary_mounts_the_emulator(inst, emu, tmpdir_short):
    mnt = os.path.join(tmpdir_short, "mnt")
    os.makedirs(mnt)
    tok = os.path.join(tmpdir_short, "token")
    with open(tok, "w") as f:
        f.write("sandbox-token\n")
    os.chmod(tok, 0o600)
    # Detached, the way fstab and systemd run it.
    r = run([inst.staged(os.path.join(inst.bindir, "partnerfs")), "-o",
             f"endpoint={emu.url},token_file={tok}", mnt], timeout=30)
    try:
        assert r.returncode == 0, r.stderr
        assert os.path.ismount(mnt)
        assert sorted(os.listdir(os.path.join(mnt, "publishers"))) == [
            "contoso", "fabrikam", "northwind"]
        with open(os.path.join(mnt, ".partnerfs", "version")) as f:
            assert f.readline() == f"partnerfs {inst.version}\n"
    finally:
        run(["fusermount3", "-u", "-z", mnt])
    # The daemon exits once unmounted.
    deadline = time.monotonic() + 10
    while run(["pgrep", "-f", f"token_file={tok}"]).returncode == 0:
        assert time.monotonic() < deadline, "daemon still running"
        time.sleep(0.05)


@pytest.mark.parametrize("which", ["source", "installed"])
def test_man_page_renders_without_warnings(inst, which):
    if not shutil.which("man"):
        pytest.skip("man-db not installed (tools/install-deps)")
    path = MAN_SRC if which == "source" else inst.staged(
        os.path.join(inst.mandir, "man1", "partnerfs.1"))
    r = render_man(path)
    assert r.returncode == 0
    assert r.stderr == ""
    assert "PARTNERFS(1)" in r.stdout


def man_text():
    r = render_man(MAN_SRC)
    # Undo hyphenation at line ends and join lines.
    return re.sub(r"\u2010\n\s*|-\n\s*(?=[a-z])", "",
                  r.stdout).replace("\n", " ")


def help_options(inst):
    out = run([inst.staged(os.path.join(inst.bindir, "partnerfs")),
               "-h"]).stdout
    ours = out.split("partnerfs options:")[1].split("FUSE options:")[0]
    return re.findall(r"-o (\w+=?)", ours)


def test_man_page_documents_every_option(inst):
    if not shutil.which("man"):
        pytest.skip("man-db not installed")
    text = man_text()
    opts = help_options(inst)
    assert "endpoint=" in opts and "log_level=" in opts
    for opt in opts:
        assert re.search(r"(^|\s)" + re.escape(opt), text), opt
    for word in ["-h, --help", "-V, --version", "noauto", "_netdev",
                 "x-systemd.automount", "EXIT STATUS", "https_proxy",
                 "AZURE_CLIENT_SECRET", "ENOTCONN", "fusermount3 -u -z"]:
        assert word in text, word


def test_man_page_documents_every_file_of_the_tree():
    if not shutil.which("man"):
        pytest.skip("man-db not installed")
    text = man_text()
    patterns = []
    # The shared rows, and each backend's.
    for rows in [os.path.join(REPO, "fs", "nodes.c")] + glob.glob(
            os.path.join(REPO, "fs", "*", "rows.c")):
        with open(rows) as f:
            patterns += re.findall(r'\.pattern = (?:\w+ )?"([^"]*)"',
                                   f.read())
    names = {p.rsplit("/", 1)[-1] for p in patterns}
    names = {n.replace("{name}", "").replace("{pub}", "").replace(
        "{offer}", "") for n in names} - {"", ".json"}
    assert "wait" in names and "last-error" in names
    for name in sorted(names):
        assert name in text, name


def test_readme_documents_every_option_and_exit_status(inst):
    with open(os.path.join(REPO, "README.md")) as f:
        readme = f.read()
    for opt in help_options(inst):
        assert f"`{opt}" in readme, opt
    for word in ["Exit status", "fusermount3 -u -z", "https_proxy",
                 "no_proxy", "curl"]:
        assert word in readme, word


def test_example_units_pass_systemd_analyze_verify(inst, tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze not installed")
    why = namespace_usable(inst)
    if why:
        pytest.skip(why)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    # In the namespace the installed prefix is the real one, so the
    # verifier finds ExecStart= binaries and the man page of
    # Documentation=.
    r = ns_run(inst, f"""
cd '{inst.examples}'
systemd-analyze verify mnt-cpp.mount mnt-cpp.automount \\
    mnt-pc.mount mnt-pc.automount
XDG_RUNTIME_DIR='{runtime}' systemd-analyze --user verify \\
    partnerfs@cpp.service cpp-operation.path cpp-operation.service \\
    partnerfs@pc.service pc-job.path pc-job.service
""", timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout + r.stderr == ""


def clone_of_head(tmp_path):
    """tools/release packs what is committed: a clone of HEAD."""
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", REPO, str(clone)], timeout=120, check=True)
    return clone


def test_release_refuses_uncommitted_changes(tmp_path):
    clone = clone_of_head(tmp_path)
    with open(clone / "README.md", "a") as f:
        f.write("uncommitted\n")
    r = run([str(clone / "tools" / "release")], timeout=60)
    assert r.returncode == 1
    assert r.stdout == ""
    assert "release: uncommitted changes" in r.stderr
    assert "README.md" in r.stderr
    assert not (clone / "build-release").exists()


@pytest.mark.timeout(600)
@pytest.mark.skipif(os.environ.get("PARTNERFS_TEST_DIST") != "1",
                    reason="slow: set PARTNERFS_TEST_DIST=1")
def test_release_makes_a_tarball_that_builds_and_passes_its_tests(tmp_path):
    clone = clone_of_head(tmp_path)
    r = run([str(clone / "tools" / "release")], timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    version = meson_info("--projectinfo")["version"]
    tarball = clone / "build-release" / "meson-dist" / (
        f"partnerfs-{version}.tar.xz")
    assert r.stdout == f"{tarball}\n"
    assert tarball.is_file()
    assert "Distribution package " in r.stderr and " tested" in r.stderr

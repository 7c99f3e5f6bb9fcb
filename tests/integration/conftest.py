"""Integration harness: a real cloudpartner-emulator on 127.0.0.1 and a real
partnerfs mount, driven with real shell tools.

Every fixture cleans up after itself even when a test fails or times out:
the mount is lazily unmounted (fusermount3 -u -z), then the daemon and the
emulator are terminated and, if they linger, killed. Every wait has a
timeout, so the suite never hangs.
"""
import json
import os
import re
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("PARTNERFS_BUILD", os.path.join(REPO, "build"))
PARTNERFS = os.path.join(BUILD, "fs", "partnerfs")
EMULATOR = os.path.join(BUILD, "tests", "emulator", "cloudpartner-emulator")
SEED = os.path.join(REPO, "tests", "emulator", "seed.json")
# the product ingestion API's seed: make_emulator("--ingestion-seed", ING_SEED)
ING_SEED = os.path.join(REPO, "tests", "emulator", "ingestion-seed.json")
TOKEN = "sandbox-token"

# A sanitizer report or a crash in a daemon's stderr fails the test.
SANITIZER_RE = re.compile(r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
                          r"runtime error:|Segmentation fault)")


def _stop(proc, timeout=5):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


LEAK_RE = re.compile(r"(?:Direct|Indirect) leak of .*allocated from:\n"
                     r"((?:[ \t]+#\d+ .*\n?)+)")


def _libfuse_only(frames):
    """True when no frame after the allocator is ours: libfuse 3.14 queues
    an INTERRUPT that arrives after its request was answered (the kernel
    interrupts the FLUSH of a process dying of a signal) and
    fuse_session_destroy never frees that queue."""
    lines = frames.strip().splitlines()[1:]
    return bool(lines) and all("libfuse3.so" in ln for ln in lines)


def _drop_libfuse_leaks(text):
    leaks = LEAK_RE.findall(text)
    if leaks and all(_libfuse_only(f) for f in leaks):
        return LEAK_RE.sub("", text).replace("ERROR: LeakSanitizer", "")
    return text


def _check_sanitizers(path, who):
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return
    if SANITIZER_RE.search(_drop_libfuse_leaks(text)):
        start = max(0, SANITIZER_RE.search(text).start() - 200)
        pytest.fail(f"{who} reported a sanitizer error:\n{text[start:start + 4000]}")


def tls_context(args):
    """For an emulator started with --tls-cert: a client context that
    trusts that (self-signed) certificate, so the test's own calls verify
    it as partnerfs does. None for plain HTTP."""
    args = list(args)
    if "--tls-cert" not in args:
        return None
    return ssl.create_default_context(
        cafile=args[args.index("--tls-cert") + 1])


class Emulator:
    """A cloudpartner-emulator process and its control endpoints; with
    --tls-cert/--tls-key among args it speaks HTTPS (url https://localhost:N).
    """

    def __init__(self, tmp, args=()):
        self.stderr_path = os.path.join(tmp, "emulator.err")
        self._err = open(self.stderr_path, "w")
        cmd = [EMULATOR, "--port", "0", "--seed", SEED] + list(args)
        if not any(a.startswith("--step-ms") for a in args):
            cmd += ["--step-ms", "0"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=self._err, text=True)
        deadline = time.monotonic() + 10
        line = ""
        while time.monotonic() < deadline and not line:
            if self.proc.poll() is not None:
                break
            import select
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                line = self.proc.stdout.readline().strip()
        if not line.startswith(("http://", "https://")):
            _stop(self.proc)
            raise RuntimeError(f"emulator did not start: {line!r}")
        self.url = line
        self.ssl = tls_context(args)

    def request(self, method, path, body=None, headers=None, timeout=10):
        """(status, headers lowercased, bytes); path is below url, or a
        whole URL such as an @nextLink the emulator handed out."""
        url = path if path.startswith(("http://", "https://")) else self.url + path
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(url, data=data, method=method,
                                     headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout,
                                        context=self.ssl) as r:
                return (r.status, {k.lower(): v for k, v in r.headers.items()},
                        r.read())
        except urllib.error.HTTPError as e:
            return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()

    def call(self, method, path, body=None, headers=None, timeout=10):
        """(status, bytes) of request()."""
        status, _, data = self.request(method, path, body, headers, timeout)
        return status, data

    def requests(self, api_only=True, prefix="/api/"):
        """Requests the emulator received, in order; api_only keeps those
        whose path starts with prefix (the ingestion API's is
        "/rp/product-ingestion/")."""
        _, body = self.call("GET", "/_emulator/requests")
        reqs = json.loads(body)
        if api_only:
            reqs = [r for r in reqs if r["path"].startswith(prefix)]
        return reqs

    def clear_requests(self):
        self.call("DELETE", "/_emulator/requests")

    def fault(self, **rule):
        status, body = self.call("POST", "/_emulator/faults", rule)
        assert status == 200, body

    def tick(self, n=1):
        for _ in range(n):
            status, _ = self.call("POST", "/_emulator/tick")
            assert status == 200

    def stop(self):
        _stop(self.proc)
        self._err.close()
        _check_sanitizers(self.stderr_path, "emulator")


class Mount:
    """A partnerfs daemon in the foreground, mounted on a temporary dir."""

    def __init__(self, tmp, emulator_url, options="", token=TOKEN, env=None,
                 expect_fail=False):
        self.tmp = tmp
        self.path = os.path.join(tmp, "mnt")
        os.makedirs(self.path, exist_ok=True)
        self.token_file = os.path.join(tmp, "token")
        self.stderr_path = os.path.join(tmp, "partnerfs.err")
        self._err = open(self.stderr_path, "w")
        opts = f"endpoint={emulator_url}"
        # token=None: no token_file, for the credentials file and the
        # AZURE_* environment.
        if token is not None:
            with open(self.token_file, "w") as f:
                f.write(token + "\n")
            os.chmod(self.token_file, 0o600)
            opts += f",token_file={self.token_file}"
        if options:
            opts += "," + options
        self.cmd = [PARTNERFS, "-f", "-o", opts, self.path]
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self._err, env=env)
        if expect_fail:
            return
        deadline = time.monotonic() + 10
        while not os.path.ismount(self.path):
            if self.proc.poll() is not None:
                raise RuntimeError("partnerfs exited with %d:\n%s" %
                                   (self.proc.returncode, self.log()))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("mount did not appear:\n" + self.log())
            time.sleep(0.02)

    def p(self, *parts):
        return os.path.join(self.path, *parts)

    def offer(self, offer, *parts, pub="contoso"):
        return self.p("publishers", pub, "offers", offer, *parts)

    def log(self):
        self._err.flush()
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if os.path.ismount(self.path):
            subprocess.run(["fusermount3", "-u", "-z", self.path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=10)
        _stop(self.proc)
        self._err.close()
        _check_sanitizers(self.stderr_path, "partnerfs")


@pytest.fixture(scope="session")
def cert(tmp_path_factory):
    """A self-signed certificate for localhost: (cert.pem, key.pem)."""
    d = tmp_path_factory.mktemp("tls")
    key, crt = str(d / "key.pem"), str(d / "cert.pem")
    r = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return crt, key


@pytest.fixture
def tmpdir_short():
    # Short paths: keeps mountpoints readable in failure messages.
    d = tempfile.mkdtemp(prefix="pfs-")
    yield d
    subprocess.run(["fusermount3", "-u", "-z", os.path.join(d, "mnt")],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["rm", "-rf", "--one-file-system", d])


def _factory(tmpdir, build):
    """A fixture body: make(...) builds objects in their own subdirectory of
    tmpdir; every one made is stopped at teardown, even after a failure."""
    made = []

    def make(*args, **kw):
        obj = build(tempfile.mkdtemp(dir=tmpdir), *args, **kw)
        made.append(obj)
        return obj
    yield make
    for obj in made:
        obj.stop()


@pytest.fixture
def make_emulator(tmpdir_short):
    yield from _factory(tmpdir_short, lambda sub, *args: Emulator(sub, args))


@pytest.fixture
def make_mount(tmpdir_short):
    def build(sub, emulator, options="", **kw):
        url = emulator.url if hasattr(emulator, "url") else emulator
        return Mount(sub, url, options, **kw)
    yield from _factory(tmpdir_short, build)


@pytest.fixture
def emu(make_emulator):
    """The default emulator: default seed, clock stopped (tick by hand)."""
    return make_emulator()


@pytest.fixture
def mnt(emu, make_mount):
    """A mount of the default emulator; poll_interval 0.2 s."""
    return make_mount(emu, "poll_interval=0.2")

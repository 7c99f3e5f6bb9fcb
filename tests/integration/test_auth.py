"""Authentication (doc/design.md §4): token_file (re-read when it
changes), -o credentials= and the AZURE_* environment with the Azure AD
client-credentials flow against the emulator's token endpoint, refresh
before expiry and once more on a 401, and checks that no secret or token
leaks into ps, /proc, the logs, .partnerfs/config or any file of the mount.

Clients (tests/emulator/seed.json): tenant "sandbox-tenant", client
00000000-0000-0000-0000-000000000001, secret "sandbox-secret" (all
publishers); tokens "sandbox-token" (all) and "contoso-only" (contoso).
"""
import errno
import os
import subprocess
import time
import urllib.parse

import pytest

from ophelpers import fs_requests, read_text
from util import run

TENANT = "sandbox-tenant"
CLIENT = "00000000-0000-0000-0000-000000000001"
SECRET = "sandbox-secret"
RESOURCE = "https://cloudpartner.azure.com"
TOKEN_PATH = f"/{TENANT}/oauth2/token"


def write_credentials(tmp_path, mode=0o600, secret=SECRET, tenant=TENANT,
                      lines=None):
    path = tmp_path / "cpp.credentials"
    if lines is None:
        lines = [f"tenant_id={tenant}", f"client_id={CLIENT}",
                 f"client_secret={secret}"]
    path.write_text("# partnerfs test\n" + "\n".join(lines) + "\n")
    os.chmod(path, mode)
    return str(path)


def env_with(**kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    env.update(kw)
    return env


def azure_env(secret=SECRET, tenant=TENANT):
    return env_with(AZURE_TENANT_ID=tenant, AZURE_CLIENT_ID=CLIENT,
                    AZURE_CLIENT_SECRET=secret)


def token_posts(emu):
    return [r for r in emu.requests(api_only=False)
            if r["method"] == "POST" and "/oauth2/" in r["path"]]


def bearers(emu, path_prefix="/api/"):
    return [r["headers"].get("authorization", "")[len("Bearer "):]
            for r in fs_requests(emu, path_prefix=path_prefix)]


def wait_exit(m, timeout=20):
    try:
        return m.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        pytest.fail("partnerfs did not exit:\n" + m.log())


def listing(m, pub):
    return sorted(os.listdir(m.p("publishers", pub, "offers")))


# --- token_file ----------------------------------------------------------------

def test_token_file_token_is_sent_as_bearer(emu, mnt):
    assert listing(mnt, "contoso")[0] == "contoso-app"
    got = bearers(emu)
    assert got and set(got) == {"sandbox-token"}
    assert token_posts(emu) == []


@pytest.mark.parametrize("how", ["rewrite-in-place", "rename-over"])
def test_token_file_is_reread_when_it_changes(how, emu, make_mount):
    m = make_mount(emu, "cache_ttl=0")
    assert "fabrikam-corevm" in listing(m, "fabrikam")
    assert set(bearers(emu)) == {"sandbox-token"}
    # Rotate: contoso-only sees contoso but gets 403 for fabrikam.
    if how == "rewrite-in-place":
        with open(m.token_file, "w") as f:
            f.write("contoso-only\n")
    else:
        tmp = m.token_file + ".new"
        with open(tmp, "w") as f:
            f.write("contoso-only\n")
        os.chmod(tmp, 0o600)
        os.rename(tmp, m.token_file)
    emu.clear_requests()
    assert "contoso-vm" in listing(m, "contoso")
    assert set(bearers(emu)) == {"contoso-only"}
    with pytest.raises(OSError) as ei:
        listing(m, "fabrikam")
    assert ei.value.errno == errno.EACCES
    # And back.
    with open(m.token_file, "w") as f:
        f.write("Bearer sandbox-token\n")
    emu.clear_requests()
    assert "fabrikam-corevm" in listing(m, "fabrikam")
    assert set(bearers(emu)) == {"sandbox-token"}


@pytest.mark.parametrize("how", ["rename-over", "chmod"])
def test_token_file_readable_by_others_when_reread_is_eacces(how, emu,
                                                             make_mount):
    """A renewed token file that others can read is refused like one at
    start-up: a warning, EACCES, and its token is not sent; fixing the mode
    ends it at once."""
    m = make_mount(emu, "cache_ttl=0")
    assert "contoso-vm" in listing(m, "contoso")
    if how == "rename-over":
        # A new file made with the umask (0644 here), as `az ... > f.new;
        # mv f.new f` would.
        tmp = m.token_file + ".new"
        with open(tmp, "w") as f:
            f.write("contoso-only\n")
        os.chmod(tmp, 0o644)
        os.rename(tmp, m.token_file)
        now = "contoso-only"
    else:
        os.chmod(m.token_file, 0o644)
        now = "sandbox-token"
    emu.clear_requests()
    with pytest.raises(OSError) as ei:
        listing(m, "contoso")
    assert ei.value.errno == errno.EACCES
    assert fs_requests(emu) == []
    want = (f"token_file={m.token_file}: readable by group or others "
            "(mode 644), refused; run chmod 600 on it")
    assert want in m.log()
    assert want in read_text(m.p(".partnerfs", "last-error"))
    os.chmod(m.token_file, 0o600)
    assert "contoso-vm" in listing(m, "contoso")
    assert set(bearers(emu)) == {now}


def test_token_file_in_az_cli_json_form(emu, make_mount):
    m = make_mount(emu, token='{"accessToken": "sandbox-token", '
                   '"expiresOn": "2030-01-01 00:00:00.000000", '
                   '"tokenType": "Bearer"}')
    assert "contoso-vm" in listing(m, "contoso")
    assert set(bearers(emu)) == {"sandbox-token"}


def test_token_file_401_once_rereads_and_retries(emu, mnt):
    path = "/api/publishers/fabrikam/offers"
    emu.fault(method="GET", path=path, status=401, count=1)
    emu.clear_requests()
    assert "fabrikam-corevm" in listing(mnt, "fabrikam")
    reqs = fs_requests(emu, path=path)
    assert [r["status"] for r in reqs] == [401, 200]


def test_token_file_second_401_is_eacces_naming_the_token_file(emu, mnt):
    path = "/api/publishers/fabrikam/offers"
    emu.fault(method="GET", path=path, status=401, count=2)
    emu.clear_requests()
    with pytest.raises(OSError) as ei:
        listing(mnt, "fabrikam")
    assert ei.value.errno == errno.EACCES
    assert [r["status"] for r in fs_requests(emu, path=path)] == [401, 401]
    want = f"token rejected after a refresh; token_file={mnt.token_file}"
    assert want in read_text(mnt.p(".partnerfs", "last-error"))
    assert want in mnt.log()


def test_fixing_the_token_file_ends_eacces_at_once(emu, make_mount):
    # cache_ttl 30: a 401 is about the credential, not the document, and
    # is not remembered the way a 403 or 404 is.
    m = make_mount(emu, "cache_ttl=30")
    with open(m.token_file, "w") as f:
        f.write("not-a-known-token\n")
    with pytest.raises(OSError) as ei:
        listing(m, "fabrikam")
    assert ei.value.errno == errno.EACCES
    with open(m.token_file, "w") as f:
        f.write("sandbox-token\n")
    assert "fabrikam-corevm" in listing(m, "fabrikam")


def test_a_403_is_remembered_for_the_cache_ttl(emu, make_mount):
    m = make_mount(emu, "cache_ttl=30,publishers=contoso",
                   token="contoso-only")
    for _ in range(2):
        with pytest.raises(OSError) as ei:
            listing(m, "fabrikam")
        assert ei.value.errno == errno.EACCES
    assert len(fs_requests(emu, path="/api/publishers/fabrikam/offers")) == 1


def test_token_file_rotated_to_an_invalid_token_is_eacces(emu, make_mount):
    m = make_mount(emu, "cache_ttl=0")
    with open(m.token_file, "w") as f:
        f.write("not-a-known-token\n")
    with pytest.raises(OSError) as ei:
        listing(m, "contoso")
    assert ei.value.errno == errno.EACCES
    assert set(bearers(emu)[-2:]) == {"not-a-known-token"}
    assert "token_file=" in read_text(m.p(".partnerfs", "last-error"))


def test_token_file_with_a_bad_token_fails_at_start(emu, make_mount):
    m = make_mount(emu, token="nobody-knows-me", expect_fail=True)
    assert wait_exit(m) == 1
    err = m.log()
    assert "401" in err or "Unauthorized" in err or "token" in err
    assert not os.path.ismount(m.path)


# --- credentials file ------------------------------------------------------

def assert_token_post(req, secret=SECRET, path=TOKEN_PATH,
                      target=("resource", RESOURCE)):
    assert req["method"] == "POST"
    assert req["path"] == path
    assert req["headers"]["content-type"].startswith(
        "application/x-www-form-urlencoded")
    form = urllib.parse.parse_qs(req["body"], strict_parsing=True)
    assert form == {"grant_type": ["client_credentials"],
                    "client_id": [CLIENT], "client_secret": [secret],
                    target[0]: [target[1]]}
    assert "authorization" not in req["headers"]


def test_credentials_file_gets_a_token_from_the_authority(emu, make_mount,
                                                          tmp_path):
    cred = write_credentials(tmp_path)
    m = make_mount(emu, f"credentials={cred},authority={emu.url}", token=None)
    assert "fabrikam-corevm" in listing(m, "fabrikam")
    posts = token_posts(emu)
    assert len(posts) == 1
    assert_token_post(posts[0])
    assert posts[0]["status"] == 200
    used = set(bearers(emu))
    assert len(used) == 1
    tok = used.pop()
    assert tok not in ("", "sandbox-token")
    assert all(r["status"] == 200 for r in fs_requests(emu))
    cfg = read_text(m.p(".partnerfs", "config"))
    assert (f"auth=credentials={cred} (tenant_id={TENANT}, client_id={CLIENT}, "
            "client_secret=***)\n") in cfg


TOKEN_ENDPOINTS = {
    "v1": (TOKEN_PATH, ("resource", RESOURCE)),
    "v2": (f"/{TENANT}/oauth2/v2.0/token",
           ("scope", RESOURCE + "/.default")),
}


@pytest.mark.parametrize("version", sorted(TOKEN_ENDPOINTS))
def test_token_endpoint_v1_or_v2(version, emu, make_mount, tmp_path):
    cred = write_credentials(tmp_path)
    m = make_mount(emu, f"credentials={cred},authority={emu.url}/,"
                        f"token_endpoint={version}", token=None)
    assert "fabrikam-corevm" in listing(m, "fabrikam")
    posts = token_posts(emu)
    assert len(posts) == 1
    path, target = TOKEN_ENDPOINTS[version]
    assert_token_post(posts[0], path=path, target=target)
    assert posts[0]["status"] == 200
    assert all(r["status"] == 200 for r in fs_requests(emu))
    cfg = read_text(m.p(".partnerfs", "config")).splitlines()
    assert f"authority={emu.url}/" in cfg
    assert f"token_endpoint={version}" in cfg


def test_v2_refusal_names_the_v2_endpoint(emu, make_mount, tmp_path):
    cred = write_credentials(tmp_path, secret="wrong")
    m = make_mount(emu, f"credentials={cred},authority={emu.url},"
                        "token_endpoint=v2", token=None, expect_fail=True)
    assert wait_exit(m) == 1
    err = m.log()
    assert (f"Azure AD at {emu.url}/{TENANT}/oauth2/v2.0/token refused the "
            "client credentials (HTTP 401): invalid_client: AADSTS7000215: "
            "Invalid client secret is provided.") in err, err
    assert "wrong" not in err


def test_credentials_with_quotes_spaces_and_comments(emu, make_mount,
                                                     tmp_path):
    cred = write_credentials(tmp_path, lines=[
        "  # a comment", "", f' tenant_id = "{TENANT}" ',
        f"client_id={CLIENT}\r", f'client_secret="{SECRET}"'])
    m = make_mount(emu, f"credentials={cred},authority={emu.url}", token=None)
    assert listing(m, "contoso")
    assert_token_post(token_posts(emu)[0])


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_credentials_readable_by_others_is_refused(mode, emu, make_mount,
                                                   tmp_path):
    cred = write_credentials(tmp_path, mode=mode)
    m = make_mount(emu, f"credentials={cred},authority={emu.url}",
                   token=None, expect_fail=True)
    assert wait_exit(m) == 1
    err = m.log()
    assert (f"partnerfs: credentials={cred}: readable by group or others "
            f"(mode {mode:03o}), refused; run chmod 600 on it\n") in err
    assert err.endswith("see 'partnerfs -h' for usage\n")
    assert SECRET not in err
    assert emu.requests(api_only=False) == []


@pytest.mark.parametrize("missing", ["tenant_id", "client_id",
                                     "client_secret"])
def test_credentials_missing_a_key_is_refused(missing, emu, make_mount,
                                              tmp_path):
    lines = [f"tenant_id={TENANT}", f"client_id={CLIENT}",
             f"client_secret={SECRET}"]
    cred = write_credentials(tmp_path, lines=[
        line for line in lines if not line.startswith(missing)])
    m = make_mount(emu, f"credentials={cred},authority={emu.url}",
                   token=None, expect_fail=True)
    assert wait_exit(m) == 1
    assert f"credentials={cred}: {missing} is missing\n" in m.log()
    assert emu.requests(api_only=False) == []


def test_bad_secret_fails_at_start_with_the_reason(emu, make_mount, tmp_path):
    cred = write_credentials(tmp_path, secret="wrong-secret")
    m = make_mount(emu, f"credentials={cred},authority={emu.url}",
                   token=None, expect_fail=True)
    assert wait_exit(m) == 1
    err = m.log()
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"partnerfs: {emu.url}: no access token from "
                           f"credentials={cred}")
    assert "refused the client credentials (HTTP 401): invalid_client: " \
        "AADSTS7000215: Invalid client secret is provided." in last
    assert "wrong-secret" not in err
    assert not os.path.ismount(m.path)
    posts = token_posts(emu)
    assert len(posts) == 1 and posts[0]["status"] == 401
    assert fs_requests(emu) == []


def test_unknown_tenant_fails_at_start(emu, make_mount, tmp_path):
    cred = write_credentials(tmp_path, tenant="no-such-tenant")
    m = make_mount(emu, f"credentials={cred},authority={emu.url}",
                   token=None, expect_fail=True)
    assert wait_exit(m) == 1
    assert "invalid_request: AADSTS90002: Tenant not found." in m.log()


def test_unreachable_authority_fails_at_start(emu, make_mount, tmp_path):
    cred = write_credentials(tmp_path)
    m = make_mount(emu, f"credentials={cred},authority=http://127.0.0.1:1,"
                   "timeout=2", token=None, expect_fail=True)
    assert wait_exit(m) == 1
    assert ("token request to http://127.0.0.1:1/sandbox-tenant/oauth2/token "
            "failed: No route to host") in m.log()


def test_token_file_takes_precedence_over_credentials(emu, make_mount,
                                                      tmp_path):
    cred = write_credentials(tmp_path)
    m = make_mount(emu, f"credentials={cred},authority={emu.url}")
    assert listing(m, "contoso")
    assert token_posts(emu) == []
    assert set(bearers(emu)) == {"sandbox-token"}
    assert "auth=token_file=" in read_text(m.p(".partnerfs", "config"))


# --- environment ------------------------------------------------------------

def test_environment_credentials(emu, make_mount):
    m = make_mount(emu, f"authority={emu.url}", token=None, env=azure_env())
    assert "fabrikam-corevm" in listing(m, "fabrikam")
    posts = token_posts(emu)
    assert len(posts) == 1
    assert_token_post(posts[0])
    cfg = read_text(m.p(".partnerfs", "config"))
    assert (f"auth=environment (tenant_id={TENANT}, client_id={CLIENT}, "
            "client_secret=***)\n") in cfg


@pytest.mark.parametrize("missing", ["AZURE_TENANT_ID", "AZURE_CLIENT_ID",
                                     "AZURE_CLIENT_SECRET"])
def test_incomplete_environment_is_refused(missing, emu, make_mount):
    env = azure_env()
    del env[missing]
    m = make_mount(emu, f"authority={emu.url}", token=None, env=env,
                   expect_fail=True)
    assert wait_exit(m) == 1
    assert f"partnerfs: environment: {missing} is missing\n" in m.log()
    assert emu.requests(api_only=False) == []


def test_no_credentials_at_all_is_refused(emu, make_mount):
    m = make_mount(emu, token=None, env=env_with(), expect_fail=True)
    assert wait_exit(m) == 1
    err = m.log()
    assert err.startswith("partnerfs: no credentials: use -o token_file=, "
                          "-o credentials= or AZURE_TENANT_ID")
    assert err.endswith("see 'partnerfs -h' for usage\n")


def test_environment_bad_secret_fails_at_start(emu, make_mount):
    m = make_mount(emu, f"authority={emu.url}", token=None,
                   env=azure_env(secret="nope-nope"), expect_fail=True)
    assert wait_exit(m) == 1
    err = m.log()
    assert "no access token from environment" in err
    assert "Invalid client secret is provided." in err
    assert "nope-nope" not in err


# --- refresh ------------------------------------------------------------------

def test_token_is_refreshed_before_it_expires(make_emulator, make_mount,
                                              tmp_path):
    emu = make_emulator("--token-ttl", "2")
    cred = write_credentials(tmp_path)
    m = make_mount(emu, f"credentials={cred},authority={emu.url},cache_ttl=0",
                   token=None)
    deadline = time.monotonic() + 4.5
    while time.monotonic() < deadline:
        assert "contoso-vm" in listing(m, "contoso")
        time.sleep(0.1)
    posts = token_posts(emu)
    # Lifetime 2 s, renewed at 90 % of it: about three tokens in 4.5 s.
    assert 3 <= len(posts) <= 5, len(posts)
    assert all(p["status"] == 200 for p in posts)
    api = fs_requests(emu)
    assert len(api) >= 20
    # Never a request with an expired token: no 401 at all.
    assert {r["status"] for r in api} == {200}
    assert len(set(bearers(emu))) == len(posts)


def test_401_once_fetches_a_new_token_and_retries(emu, make_mount, tmp_path):
    cred = write_credentials(tmp_path)
    m = make_mount(emu, f"credentials={cred},authority={emu.url}", token=None)
    path = "/api/publishers/fabrikam/offers"
    emu.fault(method="GET", path=path, status=401, count=1)
    emu.clear_requests()
    assert "fabrikam-corevm" in listing(m, "fabrikam")
    reqs = [r for r in emu.requests(api_only=False)
            if r["path"] in (path, TOKEN_PATH)]
    assert [(r["method"], r["path"], r["status"]) for r in reqs] == [
        ("GET", path, 401), ("POST", TOKEN_PATH, 200), ("GET", path, 200)]
    first, second = (r["headers"]["authorization"] for r in reqs[::2])
    assert first != second


def test_second_401_is_eacces_with_a_line_naming_the_credential(emu,
                                                              make_mount,
                                                              tmp_path):
    cred = write_credentials(tmp_path)
    m = make_mount(emu, f"credentials={cred},authority={emu.url}", token=None)
    path = "/api/publishers/northwind/offers"
    emu.fault(method="GET", path=path, status=401, count=2)
    emu.clear_requests()
    r = run(["ls", m.p("publishers", "northwind", "offers")])
    assert r.returncode != 0
    assert "Permission denied" in r.stderr
    reqs = [r for r in emu.requests(api_only=False)
            if r["path"] in (path, TOKEN_PATH)]
    assert [(r["method"], r["status"]) for r in reqs] == [
        ("GET", 401), ("POST", 200), ("GET", 401)]
    line = [x for x in m.log().splitlines() if "northwind/offers -> 401" in x]
    assert len(line) == 1
    assert (f"(token rejected after a refresh; credentials={cred} "
            f"(tenant_id={TENANT}, client_id={CLIENT}, client_secret=***))"
            in line[0])
    assert "warn:" in line[0]
    # The mount goes on working afterwards.
    assert "fabrikam-corevm" in listing(m, "fabrikam")


def test_token_endpoint_failure_mid_run_keeps_the_live_token(
        make_emulator, make_mount, tmp_path):
    emu = make_emulator("--token-ttl", "6")
    cred = write_credentials(tmp_path)
    t0 = time.monotonic()
    m = make_mount(emu, f"credentials={cred},authority={emu.url},cache_ttl=0",
                   token=None)
    emu.fault(method="POST", path=TOKEN_PATH, status=503, count=1)
    # Into the refresh window: renewal is due at 5.4 s of the 6 s.
    time.sleep(max(0.0, t0 + 5.75 - time.monotonic()))
    # The renewal fails once; the token still has a little life left,
    # and the next request tries the renewal again.
    assert listing(m, "contoso")
    st = [p["status"] for p in token_posts(emu)]
    assert st[:2] == [200, 503]
    assert len(st) <= 4
    time.sleep(max(0.0, t0 + 6.3 - time.monotonic()))
    assert listing(m, "contoso")
    st = [p["status"] for p in token_posts(emu)]
    assert st[:2] == [200, 503] and st[-1] == 200
    assert {r["status"] for r in fs_requests(emu)} == {200}


# --- secrets never leak -------------------------------------------------------

def _leak_scan(m, emu, secrets):
    """Asserts none of secrets appears anywhere a user or another process
    could see it."""
    pid = m.proc.pid
    ps = run(["ps", "-eo", "pid,args", "ww"]).stdout
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        cmdline = f.read()
    with open(f"/proc/{pid}/environ", "rb") as f:
        environ = f.read()
    log = m.log()
    assert "debug:" in log  # the scan looked at the most verbose log
    # Every file of the mount, read by grep (wait is never listed).
    files = run(["find", m.path, "-type", "f"], timeout=30).stdout.split()
    assert len(files) > 50
    for s in secrets:
        assert s and s not in ps, s
        assert s.encode() not in cmdline, s
        assert s.encode() not in environ, s
        assert s not in log, s
        r = run(["grep", "-rlF", "--", s, m.path], timeout=60)
        assert r.returncode == 1, (s, r.stdout, r.stderr)
    cfg = read_text(m.p(".partnerfs", "config"))
    for s in secrets:
        assert s not in cfg


@pytest.mark.parametrize("source", ["credentials", "environment"])
def test_no_secret_or_token_leaks(source, make_emulator, make_mount,
                                  tmp_path):
    emu = make_emulator("--token-ttl", "2")
    opts = f"authority={emu.url},log_level=debug,cache_ttl=0"
    if source == "credentials":
        cred = write_credentials(tmp_path)
        m = make_mount(emu, f"credentials={cred}," + opts, token=None)
    else:
        m = make_mount(emu, opts, token=None, env=azure_env())
    # Traffic of every kind: reads, a refresh, a 401 retry, a failed
    # write and a control-file error.
    assert listing(m, "contoso")
    emu.fault(method="GET", path="/api/publishers/fabrikam/offers",
              status=401, count=1)
    assert listing(m, "fabrikam")
    with pytest.raises(OSError):
        with open(m.offer("contoso-vm", "offer.json"), "w") as f:
            f.write("{bad")
    time.sleep(2.1)
    assert listing(m, "contoso")
    tokens = set(bearers(emu))
    assert len(tokens) >= 2
    assert len(token_posts(emu)) >= 2
    _leak_scan(m, emu, [SECRET] + sorted(tokens))
    if source == "environment":
        # The daemon keeps no copy in its environment block either.
        with open(f"/proc/{m.proc.pid}/environ", "rb") as f:
            env = f.read().split(b"\0")
        assert b"AZURE_TENANT_ID=" + TENANT.encode() in env
        assert not any(e.startswith(b"AZURE_CLIENT_SECRET=" + SECRET[:3].encode())
                       for e in env)


def test_token_file_token_never_leaks(emu, make_mount):
    m = make_mount(emu, "log_level=debug", token="sandbox-token")
    assert listing(m, "contoso")
    emu.fault(method="GET", path="/api/publishers/fabrikam/offers",
              status=401, count=2)
    with pytest.raises(OSError):
        listing(m, "fabrikam")
    _leak_scan(m, emu, ["sandbox-token"])
    assert "Authorization" not in m.log()

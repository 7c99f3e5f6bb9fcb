"""mount-helpers/sandbox --api ingestion: the README's tour of the
product ingestion backend, done with real tools on the sandbox's own
mount (emulator with the ingestion seed, jobs on a 200 ms clock); Ctrl-C
unmounts and stops the emulator."""
import os
import signal
import subprocess
import time

from conftest import REPO
from ophelpers import q, sh
from util import read, wait_for

TC = "draft/plans/gen2/virtual-machine-plan-technical-configuration.json"


def test_sandbox_ingestion_tour(tmpdir_short):
    mnt = os.path.join(tmpdir_short, "sbx")
    log = open(os.path.join(tmpdir_short, "sandbox.out"), "w")
    proc = subprocess.Popen(
        [os.path.join(REPO, "mount-helpers", "sandbox"), "--api",
         "ingestion", mnt], stdin=subprocess.DEVNULL, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
        env=dict(os.environ, SANDBOX_STEP_MS="200"))
    try:
        assert wait_for(lambda: os.path.ismount(mnt) or proc.poll() is not None,
                        180, 0.2) and proc.poll() is None, \
            open(log.name).read()
        p = os.path.join(mnt, "products")
        assert "contoso-vm" in os.listdir(p)
        assert read(os.path.join(p, "contoso-vm", "status")) == "succeeded\n"
        tc = os.path.join(p, "contoso-vm", TC)
        copy = os.path.join(tmpdir_short, "tc.json")
        r = sh("bash", f"cp {q(tc)} {q(copy)} && "
                       f"sed -i 's/Standard_D4s_v5/Standard_D8s_v5/' {q(copy)} && "
                       f"cp {q(copy)} {q(tc)}")
        assert r.returncode == 0, r.stderr
        assert "job: " in read(os.path.join(p, "contoso-vm", "configure"))
        draft = os.path.join(p, "contoso-draft")
        r = sh("bash", f"echo > {q(os.path.join(draft, 'publish'))} && "
                       f"timeout 60 cat {q(os.path.join(draft, 'operations', 'latest', 'wait'))}",
               timeout=70)
        assert r.stdout == "succeeded\n", r.stderr
        assert "products/contoso-draft job " in read(os.path.join(mnt, "events"))
        r = sh("bash", f"echo > {q(os.path.join(draft, 'golive'))} && "
                       f"timeout 60 cat {q(os.path.join(draft, 'operations', 'latest', 'wait'))}",
               timeout=70)
        assert r.stdout == "succeeded\n", r.stderr
        assert wait_for(lambda: "live" in os.listdir(draft), 10)
        assert wait_for(lambda: "Standard_D8s_v5" in read(tc), 10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        log.close()
        subprocess.run(["fusermount3", "-u", "-z", mnt],
                       stderr=subprocess.DEVNULL, timeout=10)
    assert not os.path.ismount(mnt)

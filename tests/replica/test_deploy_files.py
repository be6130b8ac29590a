"""The fixed deployment files in deploy/ are what their tools accept: HAProxy's configuration
(`haproxy -c`) and keepalived's (`keepalived -t`, the floating address of two balancers), and
each checker does reject a broken copy, so a passing check means something."""

from __future__ import annotations

import subprocess
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _check(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


def test_haproxy_accepts_the_fixed_configuration(tmp_path: Path) -> None:
    done = _check(["haproxy", "-c", "-f", str(DEPLOY / "haproxy.cfg")])
    assert done.returncode == 0, done.stdout + done.stderr
    text = (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8")
    assert "monitor-uri /-/balancer" in text  # what deploy/keepalived.conf's comment names
    broken = tmp_path / "haproxy.cfg"
    broken.write_text(text.replace("balance leastconn", "balance most-recent", 1), "utf-8")
    assert _check(["haproxy", "-c", "-f", str(broken)]).returncode != 0


def test_keepalived_accepts_the_two_balancer_configuration(tmp_path: Path) -> None:
    done = _check(["keepalived", "-t", "-l", "-f", str(DEPLOY / "keepalived.conf")])
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done
    text = (DEPLOY / "keepalived.conf").read_text(encoding="utf-8")
    broken = tmp_path / "keepalived.conf"
    broken.write_text(text.replace("virtual_router_id 51", "virtual_router_id 300"), "utf-8")
    done = _check(["keepalived", "-t", "-l", "-f", str(broken)])
    assert done.returncode != 0 and "VRID '300'" in done.stdout + done.stderr

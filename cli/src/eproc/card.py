"""The virtual eID card of the embedded mode: a demo person's card "inserted"
in pcscd's virtual reader (vpcd), the card agent the login page calls, and the
development PKI's status service (OCSP and CRLs) the gateway checks the card with.

All are child processes (``eid-card insert``, ``eid-agent``, ``eid-pki serve``)
that end with their parent however it ends (:mod:`eproc.processes`); without
PC/SC (no pcscd with vpcd on this machine) the embedded mode runs without them
and says so.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from eproc.processes import spawn_child
from eproc_eid_agent.agent import AgentSettings
from eproc_eid_testkit.pki import DevPki

VPCD_PORT = 35963

AGENT_PORT = AgentSettings().port


def vpcd_reader_name(vpcd_port: int) -> str:
    """The PC/SC reader vpcd shows for a card side's TCP port (35963 → "… 00 00",
    35964 → "… 00 01"): the agent reads that reader only, not a card another
    program put in the other slot."""
    return f"Virtual PCD 00 {vpcd_port - VPCD_PORT:02d}"


def pcsc_available() -> bool:
    """Whether pcscd with the vpcd driver listens on this machine (``deploy/local/pcscd.sh``)."""
    script = Path(__file__).resolve().parents[3] / "deploy" / "local" / "pcscd.sh"
    if script.exists():
        result = subprocess.run(  # noqa: S603 - the repository's own script
            ["bash", str(script), "status"],  # noqa: S607 - bash from PATH
            capture_output=True,
            check=False,
        )
        return result.returncode == 0
    return False


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class VirtualCard:
    """The running card and agent processes, and a line for the banner."""

    status: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()


def _script(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    return found or name


def start_virtual_card(
    *,
    data_dir: Path,
    eid_home: Path,
    gateway_origin: str,
    person: str,
    vpcd_port: int = VPCD_PORT,
    agent_port: int | None = None,
) -> VirtualCard:
    """Insert ``person``'s demo card (from the development PKI under ``eid_home``) in
    the vpcd slot of ``vpcd_port`` and start the card agent on ``agent_port`` (reading
    that slot, answering the eID gateway's page at ``gateway_origin``), when PC/SC is
    available. The embedded mode and the local stack both use it."""
    if not pcsc_available():
        return VirtualCard(
            "not available: PC/SC (pcscd + vpcd) is not running on this machine — "
            "run `bash deploy/local/pcscd.sh start` and restart for eID login; "
            "local login keeps working for users who have a password"
        )
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    processes = [
        spawn_child(
            [
                _script("eid-card"),
                "--dir",
                str(eid_home),
                "insert",
                "--person",
                person,
                "--port",
                str(vpcd_port),
            ],
            log=logs / "eid-card.log",
        )
    ]
    # The certificates of the development PKI name its status service's address; the
    # gateway refuses a card whose status it cannot check (fail closed).
    status_url = DevPki.load_or_create(eid_home / "pki").status_url
    status_port = urlsplit(status_url).port
    if status_port is not None and _port_free(status_port):
        processes.append(
            spawn_child(
                [_script("eid-pki"), "--dir", str(eid_home), "serve"],
                log=logs / "eid-pki-status.log",
            )
        )
        status = f"certificate status on {status_url}"
    else:
        status = f"certificate status: {status_url} is taken by another program"
    agent_port = agent_port or AGENT_PORT
    if _port_free(agent_port):
        env = {
            **os.environ,
            "EPROC_EID_AGENT_GATEWAY_ORIGIN": gateway_origin.rstrip("/"),
            "EPROC_EID_AGENT_PORT": str(agent_port),
            "EPROC_EID_AGENT_READER": vpcd_reader_name(vpcd_port),
        }
        processes.append(spawn_child([_script("eid-agent")], log=logs / "eid-agent.log", env=env))
        agent = f"card agent on 127.0.0.1:{agent_port}"
    else:
        agent = f"card agent already running on 127.0.0.1:{agent_port}"
    return VirtualCard(f"card of '{person}' in the vpcd reader, {agent}, {status}", processes)

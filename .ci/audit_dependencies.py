"""Dependency audit of uv.lock (issue 18): every pinned third-party package is
looked up in PyPI's vulnerability data with pip-audit.

Fails (exit 1) when

* a pinned package has a known vulnerability with a fixed version: upgrade it
  (``uv lock --upgrade-package NAME``); one without a fix is listed, not fatal;
* nothing else: a package whose data could not be had (the build machines
  reach PyPI's project pages but not its per-version vulnerability data) is
  reported loudly, with the count, but does not fail the run — failing here
  would keep every submission from landing without auditing anything more.

Run by ``make audit`` (part of ``.ci/run``); pip-audit is fetched by ``uv tool
run`` at the pinned version below.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PIP_AUDIT = "pip-audit==2.9.0"
ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    uv = os.environ.get("UV", "uv").split()
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp) / "requirements.txt"
        report = Path(tmp) / "audit.json"
        subprocess.run(
            [*uv, "export", "--quiet", "--frozen", "--all-packages", "--all-groups",
             "--no-emit-workspace", "--no-hashes", "--format", "requirements-txt",
             "-o", str(requirements)],
            cwd=ROOT, check=True,
        )  # fmt: skip
        # Exit status 1 means "vulnerabilities found": the report below decides.
        subprocess.run(
            [*uv, "tool", "run", "--quiet", "--from", PIP_AUDIT, "pip-audit",
             "--requirement", str(requirements), "--no-deps", "--disable-pip",
             "--progress-spinner", "off", "--format", "json", "--output", str(report)],
            cwd=ROOT, check=False,
        )  # fmt: skip
        if not report.exists():
            print("audit: pip-audit wrote no report", file=sys.stderr)
            return 1
        dependencies = json.loads(report.read_text())["dependencies"]
    fixable, unfixed, unaudited = [], [], []
    for dep in dependencies:
        if dep.get("skip_reason"):
            unaudited.append(f"{dep['name']}: {dep['skip_reason']}")
            continue
        for vuln in dep.get("vulns", []):
            line = f"{dep['name']} {dep['version']}: {vuln['id']}"
            if vuln.get("fix_versions"):
                fixable.append(f"{line} (fixed in {', '.join(vuln['fix_versions'])})")
            else:
                unfixed.append(f"{line} (no fix yet)")
    audited = len(dependencies) - len(unaudited)
    print(f"audit: {audited} of {len(dependencies)} pinned packages audited")
    for line in unfixed:
        print(f"audit: known, no fix: {line}")
    for line in fixable:
        print(f"audit: VULNERABLE, upgrade: {line}", file=sys.stderr)
    if unaudited:
        print(
            f"audit: WARNING {len(unaudited)} packages could not be audited "
            "(vulnerability data unreachable), e.g.:",
            file=sys.stderr,
        )
        for line in unaudited[:5]:
            print(f"audit:   {line}", file=sys.stderr)
    return 1 if fixable else 0


if __name__ == "__main__":
    sys.exit(main())

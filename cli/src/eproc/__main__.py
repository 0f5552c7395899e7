"""``eproc``: run the platform, and (later) the operators' commands."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from eproc.embedded import create_embedded_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="eproc", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run every service in one process (embedded mode)")
    run.add_argument("--data-dir", type=Path, default=Path("data"))
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if args.command == "run":
        print(f"e-Procurement user management: http://{args.host}:{args.port}/", flush=True)
        uvicorn.run(create_embedded_app(args.data_dir), host=args.host, port=args.port)


if __name__ == "__main__":
    main()

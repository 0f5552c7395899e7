"""The edge alone in its own process, for the load generator (see token_endpoint.py).

    python bench/edge_server.py --port P --database-url URL --prefix P --user-id UUID

One uvicorn worker, access log off, identity's login check stood in (it logs in
``--user-id``). Claims come from the projection it consumes from Kafka.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from edge_tokens import StandInIdentity, edge_settings

from eproc_edge.main import create_app


def main() -> None:
    """Serve the edge until terminated."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--user-id", type=uuid.UUID, required=True)
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    app = create_app(
        edge_settings(args.database_url, base, args.prefix),
        identity=StandInIdentity(args.user_id),
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()

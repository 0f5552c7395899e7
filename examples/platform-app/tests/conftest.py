"""The example's tests run against the same real edge as the SDK's own tests: its
fixture (uvicorn of the edge on a free port, fresh PostgreSQL, real Kafka) is
loaded from ``libs/platform-sdk/tests/conftest.py`` rather than copied."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_path = Path(__file__).resolve().parents[3] / "libs" / "platform-sdk" / "tests" / "conftest.py"
_spec = importlib.util.spec_from_file_location("eproc_sdk_test_edge", _path)
assert _spec is not None and _spec.loader is not None
_sdk = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _sdk  # dataclasses look their module up
_spec.loader.exec_module(_sdk)

edge_server = _sdk.edge_server
EdgeServer = _sdk.EdgeServer

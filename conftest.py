"""Root conftest: the real-infrastructure fixtures are available to every test."""

pytest_plugins = ["eproc_runtime.testing.plugin"]

"""Test support: real infrastructure for the test suite (a pytest plugin) and helpers."""

"""Launcher and operator command line of the platform."""

"""Workspace-wide pytest configuration: the real-stack fixtures for every test suite."""

pytest_plugins = ["tests.fixtures.stack"]

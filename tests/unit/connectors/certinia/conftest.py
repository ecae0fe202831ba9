"""Certinia runs in a Salesforce org: its tests use the Salesforce sandbox fixtures."""

from ..salesforce.conftest import same_org, systems  # noqa: F401 - the fixtures

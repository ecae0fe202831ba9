"""A stateful NetSuite sandbox (REST record service + SuiteQL) playing one account per tenant."""

from .app import DEMO_CERTIFICATE_ID, DEMO_CLIENT_ID, DEMO_KEY_SEED, Account, NetSuiteSandbox

__all__ = ["DEMO_CERTIFICATE_ID", "DEMO_CLIENT_ID", "DEMO_KEY_SEED", "Account", "NetSuiteSandbox"]

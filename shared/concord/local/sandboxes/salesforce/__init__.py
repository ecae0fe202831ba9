"""A stateful Salesforce REST sandbox (v67.0) playing a CRM org and a Certinia PSA org."""

from .app import SalesforceSandbox
from .org import DEFAULT_CLIENT, Org

__all__ = ["DEFAULT_CLIENT", "Org", "SalesforceSandbox"]

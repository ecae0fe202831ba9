"""The scheduled renewal of the ERP's Business Central webhook subscriptions.

The ERP role's connection secret holds the subscription settings (notification URL, record
types, clientState), so the function reads that one secret and nothing else. Business Central
stops notifying a subscription 3 days after its creation or last renewal; the schedule runs
well inside the renewal margin (a day), so one failed run leaves time for the next.
https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/dynamics-subscriptions
"""

from __future__ import annotations

import datetime as dt

from concord.errors import ConfigurationError

from ..registry import Role, SystemSecrets
from .connection import parse_connection
from .erp import BusinessCentralErp
from .subscriptions import KeptAlive, SubscriptionManager


def keep_erp_subscriptions(secrets: SystemSecrets, now: dt.datetime) -> KeptAlive:
    """Ensure the configured record types' subscriptions exist and renew those due."""
    raw = secrets.connection(Role.ERP)
    name = secrets.secret_name(Role.ERP)
    if raw.get("kind") != "business_central":
        raise ConfigurationError(f"system connection {name}: the ERP is not Business Central; "
                                 "its webhook subscriptions cannot be renewed")
    settings = parse_connection(raw).subscriptions
    if settings is None:
        raise ConfigurationError(f"system connection {name}: no `subscriptions` settings "
                                 "(notification_url, client_state, record_types)")
    erp: BusinessCentralErp = secrets.connect(Role.ERP, raw)
    manager = SubscriptionManager(erp.client, settings.notification_url, settings.client_state)
    try:
        return manager.keep_alive(settings.record_types, now)
    finally:
        erp.client.close()

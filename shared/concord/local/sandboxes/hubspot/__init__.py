"""The HubSpot CRM sandbox (date-versioned CRM objects API): see app.py."""

from .app import DEFAULT_APP, App, HubSpotSandbox, Portal

__all__ = ["DEFAULT_APP", "App", "HubSpotSandbox", "Portal"]

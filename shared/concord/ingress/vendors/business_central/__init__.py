"""Business Central webhooks (ERP): validationToken handshake, clientState on every notification."""

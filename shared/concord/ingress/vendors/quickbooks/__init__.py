"""QuickBooks Online webhooks (ERP): intuit-signature, legacy and CloudEvents payloads."""

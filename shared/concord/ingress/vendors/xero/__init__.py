"""Xero webhooks (ERP): x-xero-signature, intent-to-receive, thin events recorded for enrichment."""

"""Xero webhooks (ERP): x-xero-signature, intent-to-receive; invoice events become ChangeNotified
for enrichment (which reads the invoice through the Xero connector), the others are recorded."""

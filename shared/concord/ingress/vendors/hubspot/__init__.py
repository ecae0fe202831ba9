"""HubSpot webhooks (CRM): signature v3, thin object events, all recorded for enrichment."""

"""Salesforce Outbound Messages (CRM): SOAP notifications, org allow-list, Ack response."""

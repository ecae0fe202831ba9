"""Salesforce (CRM) and Certinia PSA, which runs on Salesforce and shares its REST transport."""

"""Concord: keeps a professional-services firm's CRM, PSA and ERP consistent."""

"""Webhook ingress: verify a delivery, normalize it to a canonical event, hand it to the bus."""

"""The connector kit: what every SaaS connector shares (auth, errors, rate budget, HTTP, paging, cursors)."""

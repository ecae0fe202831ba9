"""The connector kit: what every vendor connector builds on (auth, HTTP, errors, paging,
rate budget, change cursors)."""

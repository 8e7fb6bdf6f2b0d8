"""The whole system under one stateful test: service, visitors, venues, authority, clock."""

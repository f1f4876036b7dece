"""People, roles, sign-in (pages and API tokens) and permission checks."""

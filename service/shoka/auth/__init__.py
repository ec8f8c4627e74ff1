"""Authentication and authorisation: password hashing, staff accounts, tokens and role guards."""

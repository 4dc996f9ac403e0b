"""Custom operators, each written where the Amazon provider has no equivalent."""

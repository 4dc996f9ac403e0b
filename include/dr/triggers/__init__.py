"""Triggers that run in the triggerer while tasks wait, holding no worker slot."""

"""Exports: ways to write dissections out (fields, text trees, JSON, hex dumps)."""

"""Runs SPtrader order components for the extension; see server.py."""

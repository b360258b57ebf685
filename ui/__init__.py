"""Widgets and helpers shared by the pages: labels, filters, formatting, downloads, caching."""

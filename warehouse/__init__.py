"""The governance warehouse: schema, marts, metric definitions and scope-aware queries."""

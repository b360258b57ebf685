"""Sources → DuckDB: the demo county generator and real-file loaders."""

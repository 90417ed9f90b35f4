"""Models, engine, queries and migrations. Every row belongs to one workspace."""

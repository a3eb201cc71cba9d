"""Storage: SQLite (aiosqlite, the default) or PostgreSQL (psycopg 3) behind one Database API, named migrations,
repositories returning typed records. All SQL lives here."""

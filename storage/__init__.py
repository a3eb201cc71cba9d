"""Storage: aiosqlite, named migrations, repositories returning typed records. All SQL lives here."""

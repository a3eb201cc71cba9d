"""Channel adapters: Telegram, Zalo, the terminal. Thin: they turn updates into plain inputs for the
core in bot/ and render its plain replies for their channel."""

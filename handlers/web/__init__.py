"""The bot's web side: the dashboard's pages (a Telegram Mini App, or a browser after a single-use link), served
by the bot's own aiohttp server. Pages are rendered on the server with Jinja2; every asset is local."""

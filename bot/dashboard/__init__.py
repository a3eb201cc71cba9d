"""The department's dashboard, channel-neutral: who is signed in (access, sessions) and what each page shows
(views). The web adapter in handlers/web/ renders it; nothing here imports aiohttp."""

"""The team: operators, roles, the rota and who is on call, Telegram links."""

"""Telegram: the renderer, the bot, its webhook, ambassadors and operators."""

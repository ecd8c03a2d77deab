"""Development aids: the demo seed and a local fake of Telegram's Bot API."""

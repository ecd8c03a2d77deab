"""Who is asking and what they may do: passwords, tokens, sign-in throttle, permissions.

Plain functions and domain errors, no web framework: the JSON API (``bot.api.auth``) and the
team web are two thin clients of this package and turn its errors into HTTP answers.
"""

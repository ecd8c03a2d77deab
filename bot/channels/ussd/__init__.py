"""USSD through Africa's Talking: the screen renderer and the callback routes."""

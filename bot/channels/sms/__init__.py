"""SMS through Africa's Talking: the reply renderer and the callback routes."""

"""Cases: what people reported, kept safely, and the on-call work around them."""

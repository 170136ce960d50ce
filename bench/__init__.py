"""`make bench`: load a realistic partnership at scale and measure the API against bare Flask."""

"""Review: the desk that decides (desk.py), the post as a pure rendering (render.py), and the posts on
the platforms that carry out decisions once they are recorded (posts.py, deliveries.py)."""

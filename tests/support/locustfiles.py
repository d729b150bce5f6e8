"""Locustfiles the load tests share, as text to write into a test's folder."""

# a closed loop with think time against a slow path: an arrival shape must pace it instead
SLOW_CLOSED_LOOP = """
    from locust import FastHttpUser, between, task

    class Shopper(FastHttpUser):
        wait_time = between(0.5, 1.0)  # a closed loop's think time: the arrival shape paces instead

        @task
        def slow(self):
            self.client.get("/slow")
"""

"""Demo load for the checkout service: browse products, look at the cart, sometimes check out.

A plain locustfile with nothing of chaos_suite in it, so it runs unmodified under
``locust -f loadtests/checkout.py -H http://127.0.0.1:PORT`` as well as under chaos_suite, which
adds its own per-second SLI counting around it.
"""

from __future__ import annotations

import random

from locust import FastHttpUser, between, task

_SKUS = ("A-1", "B-2", "C-3", "D-4")


class CheckoutShopper(FastHttpUser):
    # Short think time: enough users give steady, high request rates without saturating
    # the client, so error ratios stay meaningful per second.
    wait_time = between(0.01, 0.05)

    @task(3)
    def products(self) -> None:
        self.client.get("/api/products", name="GET /api/products")

    @task(2)
    def cart(self) -> None:
        self.client.get("/api/cart", name="GET /api/cart")

    @task(1)
    def checkout(self) -> None:
        body = {
            "ref": f"load-{random.getrandbits(32):08x}",
            "items": [{"sku": random.choice(_SKUS), "qty": random.randint(1, 3)}],
        }
        # The service answers 201 Created; anything else is a functional failure for Locust.
        # (chaos_suite's availability SLI still only counts 5xx and no-answer as bad.)
        with self.client.post(
            "/api/checkout", json=body, name="POST /api/checkout", catch_response=True
        ) as resp:
            if resp.status_code != 201:
                resp.failure(f"expected 201, got {resp.status_code}")

"""Load: Locust in its own process, chaos_suite's Locust plugin, load shapes.

Runner side (never imports locust or gevent): ``runner.LoadProcess``, ``config``, ``profile``,
``buckets``. Worker side (imported only in the child process, which imports
locust first): ``worker``, ``plugin``, ``shapes``. Nothing is imported here on purpose.
"""

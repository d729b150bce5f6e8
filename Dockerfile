# chaos-suite in a container: the image the `chaos-suite schedule cronjob` CronJob runs.
#   docker build -t registry.example.com/chaos-suite:1 .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY chaos_suite ./chaos_suite
RUN pip install . && rm -rf /src

# non-root, the uid the generated manifests run as (runAsUser 10001)
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin chaos
USER 10001
WORKDIR /home/chaos

ENTRYPOINT ["chaos-suite"]
CMD ["--help"]

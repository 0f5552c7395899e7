# One image of the platform for every service; the command chooses which one runs.
FROM python:3.11-slim AS source
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY services services
COPY examples examples
COPY tools tools
COPY cli cli
RUN useradd --system --uid 10001 eproc && mkdir -p /app/data && chown eproc /app/data

# `docker build --target demo`: the embedded mode to try the platform (`eproc run`),
# with the eID test kit (development PKI, virtual card) and the card agent.
FROM source AS demo
RUN uv sync --all-packages --locked --no-dev
ENV PATH="/app/.venv/bin:$PATH"
USER eproc
EXPOSE 8000
CMD ["eproc", "run", "--host", "0.0.0.0"]

# The platform's image (compose, Kubernetes; the default target): every service and
# the operator command, without what production never runs: the eID test kit (a
# development PKI must never be one step from a trust anchor) and the card agent
# (it runs on citizens' machines, beside their card reader).
FROM source AS platform
RUN uv sync --all-packages --locked --no-dev \
    --no-install-package eproc-eid-testkit --no-install-package eproc-eid-agent \
    --no-install-package pyscard
ENV PATH="/app/.venv/bin:$PATH"
USER eproc
EXPOSE 8000
CMD ["eproc", "--help"]

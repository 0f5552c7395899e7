# One image for every service; the command chooses which one runs.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY services services
COPY examples examples
COPY tools tools
COPY cli cli
RUN uv sync --all-packages --locked --no-dev
ENV PATH="/app/.venv/bin:$PATH"
RUN useradd --system --uid 10001 eproc && mkdir -p /app/data && chown eproc /app/data
USER eproc
EXPOSE 8000
CMD ["eproc", "run", "--host", "0.0.0.0"]

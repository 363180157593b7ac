# syntax=docker/dockerfile:1
# The learning coach as an image: the runtime-only install that CI smoke-tests (.ci/install-runtime.sh: the built
# wheel and the lock's versions of its declared dependencies, nothing of the checkout, no test extras), the packaged
# embedding models inside it (they are PyPI packages in the lock), nothing downloaded at start, a non-root user.
#
#   docker build -t learning-coach .
#   docker run -p 3978:3978 -v coach-data:/data learning-coach              # the embedded default: one container
#   docker run learning-coach worker                                         # any other `coach` command
#     (a worker's probes are on 3979: --health-cmd "python /opt/coach/healthcheck.py http://127.0.0.1:3979/readyz")
# deploy/compose.yaml runs it at scale (README "Running at scale").

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# the uv the Makefile pins (UV_VERSION), from PyPI as there
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
# the interpreter of this image, never a downloaded one; .pyc compiled now (the app user cannot write them later)
ENV UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY .ci/install-runtime.sh .ci/
COPY kernel kernel
COPY coach coach
COPY connectors connectors
COPY knowledge knowledge
COPY llm llm
COPY prompts prompts
COPY bench bench
COPY examples examples
RUN --mount=type=cache,target=/root/.cache/uv \
    PYTHON=/usr/local/bin/python3 bash .ci/install-runtime.sh /opt/coach /tmp/runtime

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 coach \
 && useradd --system --uid 10001 --gid coach --home-dir /home/coach --create-home --shell /usr/sbin/nologin coach \
 && install -d -o coach -g coach /data
# the venv at the path it was made at (its scripts name /opt/coach/bin/python), owned by root: read-only to the app
COPY --from=build /opt/coach /opt/coach
COPY deploy/healthcheck.py /opt/coach/healthcheck.py
ENV PATH=/opt/coach/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False \
    COACH_DATA_DIR=/data \
    COACH_HOST=0.0.0.0 \
    COACH_PORT=3978
USER 10001:10001
WORKDIR /home/coach
# both packaged models load and embed with no network at all: what every start does, proved at build time
RUN --network=none python -c "from knowledge.embeddings import E5Embedder, MiniLMEmbedder; \
[print(m.__name__, m(threads=1).embed_query('warm up').shape) for m in (E5Embedder, MiniLMEmbedder)]"
VOLUME /data
# 3978: the app (coach serve); 3979: the worker's /healthz, /readyz and /metrics (coach worker, COACH_WORKER_PORT)
EXPOSE 3978 3979
# the first start on an empty database embeds the content: give it time before failures count
HEALTHCHECK --interval=15s --timeout=5s --start-period=300s --retries=3 CMD ["python", "/opt/coach/healthcheck.py"]
ENTRYPOINT ["coach"]
CMD ["serve"]

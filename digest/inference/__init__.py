"""Inference on a model server: any OpenAI-compatible API (vLLM, TGI, Ollama, LM Studio, llama.cpp).

`ServerModel` (the model of `[summarizer] backend = "openai"`, wrapped by
digest.summarize.server.OpenAISummarizer) and `OpenAIEmbedder` (`[embedder] backend = "openai"`)
send the model work to a server through the `openai` client, and fall back to the in-process
models when the server is down, slow or unable.
"""

from __future__ import annotations

from .openai import OpenAIEmbedder, ServerModel

__all__ = ["OpenAIEmbedder", "ServerModel"]

"""Inference on a model server: any OpenAI-compatible API (vLLM, TGI, Ollama, LM Studio, llama.cpp).

`OpenAISummarizer` (`[summarizer] backend = "openai"`) and `OpenAIEmbedder`
(`[embedder] backend = "openai"`) send the model work to a server through the `openai` client,
and fall back to the in-process models when the server is down, slow or unable.
"""

from __future__ import annotations

from .openai import OpenAIEmbedder, OpenAISummarizer, ServerModel

__all__ = ["OpenAIEmbedder", "OpenAISummarizer", "ServerModel"]

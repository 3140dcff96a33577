"""How many words a token stands for, for scripts written with and without spaces.

Chinese and Japanese put no spaces between words, so a whole clause of theirs is one token to a
splitter; counted as one word per two characters (about a word's length in both), their texts
measure up to the same thresholds (teaser length, bullet length) as spaced scripts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def count_words(tokens: Iterable[str]) -> int:
    """Words in these tokens: 1 per token, or 1 per 2 Chinese/Japanese characters in it."""
    count = 0
    for token in tokens:
        unspaced = len(_UNSPACED.findall(token))
        count += max(1, (unspaced + 1) // 2) if unspaced else 1
    return count

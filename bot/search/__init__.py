"""Search over the content passages (essays and statutes), in four steps, one module each:

- `normalise`: NFKC, traditional -> simplified, lower case;
- `segment`: jieba's DAG over a compact dictionary (our dictionaries in content/ included);
- `understand`: the question before ranking: filler dropped, workers' words mapped to the law's words
  (content/fillers.txt, content/colloquial.txt), statutes and articles named in it, legal or not;
- `rank`: BM25 postings, scoring and the re-ranking of the best candidates;

and `engine` (the SearchEngine, its cache, paging, fallback and suggestions) and `cli` (`run.py search`).
"""

from __future__ import annotations

from bot.search.cli import hit_dict, run_cli
from bot.search.engine import (
    ALL,
    DICT_FILES,
    ENGINE_VERSION,
    LAW,
    Hit,
    SearchEngine,
    SearchResult,
    dictionary_hash,
    passage_key,
    passage_title,
    query_key,
)
from bot.search.normalise import Normaliser, build_char_table
from bot.search.segment import Segmenter, jieba_tokenizer, read_synonyms, read_userdict
from bot.search.understand import MAX_QUERY_CHARS, article_label, cn_number

__all__ = [
    "ALL", "DICT_FILES", "ENGINE_VERSION", "LAW", "MAX_QUERY_CHARS", "Hit", "Normaliser", "SearchEngine",
    "SearchResult", "Segmenter", "article_label", "build_char_table", "cn_number", "dictionary_hash", "hit_dict",
    "jieba_tokenizer", "passage_key", "passage_title", "query_key", "read_synonyms", "read_userdict", "run_cli",
]

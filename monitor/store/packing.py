"""A change event's data kept compressed in the log.

A ChangeDetected's JSON is mostly its hunks' text and two hashes (~800 bytes for a
one-word edit of a bench page). It is stored as `{"~z1": "<base64 of zstd>"}`: the
canonical JSON of the data, zstd-compressed with dictionary 1 below, ~470 bytes. The
column stays JSON on both databases, so a JSON path query over other rows still reads
them (it finds nothing in a packed row: no query asks a change's data for a field).

`StoredJSON` unpacks on every read, so whoever selects `events.data` gets the data as
recorded, and the hash chain is over that logical data (`mapper.canonical_json`), never
over the packed bytes: a packed event verifies, exports into a bundle and checks there
exactly as an unpacked one. Rows written before packing existed are read as they are.

A dictionary is part of the stored format: once shipped it never changes. A better one
gets the next number, and reading keeps every earlier one.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import zstandard
from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from monitor.errors import PersistenceError

PACKED_TYPES = frozenset({"ChangeDetected"})
LEVEL = 9  # on the bench's changes: 478 B in 36 us; 19 gave 478 B in 85 us; ~10 us to read

# Raw-content dictionaries: what a change's JSON repeats from one event to the next
# (its keys in canonical order, hunk kinds, summary phrases), so that a small payload
# need not spell them out. Never edit one: add the next.
_DICTIONARIES = {
    1: (
        b'"paragraph_moved","typography","wording","confusable","date","title",'
        b'"name","paragraph_added","paragraph_removed","number"],"low","medium","high",'
        b'"title changed","date changed","number changed","numbers changed",'
        b'"wording edit touching a name","wording edits touching a name",'
        b'"paragraph removed","paragraphs removed","wording edit","wording edits",'
        b'"paragraph added","paragraphs added","paragraph moved","paragraphs moved",'
        b'"look-alike letter swap","look-alike letter swaps","typographic change",'
        b'"typographic changes"," in paragraph ",'
        b'["delete",""],["insert",""],["replace","",""],["equal",""],'
        b'{"change":{"hunks":[{"classes":["wording"],"kind":"wording","new":"",'
        b'"new_index":null,"old":"","old_index":null,"ops":[]}],"new_published":null,'
        b'"new_title":""},"classes":["wording"],"from_hash":"","significance":"medium",'
        b'"summary":"1 wording edit in paragraph 1","to_hash":"'
    ),
}
CURRENT = 1
_KEY = "~z"
_LOADED: dict[int, zstandard.ZstdCompressionDict] = {}


def _dictionary(number: int) -> zstandard.ZstdCompressionDict:
    found = _LOADED.get(number)
    if found is None:
        if number not in _DICTIONARIES:
            raise PersistenceError(f"packed event data names dictionary {number}, which this "
                                   "program does not know; upgrade govkz-monitor")
        found = zstandard.ZstdCompressionDict(_DICTIONARIES[number],
                                              dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        found.precompute_compress(level=LEVEL)  # once, not on every pack: 24 -> 19 us
        _LOADED[number] = found
    return found


def pack(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """What to store for an event's data: packed for the types that gain from it."""
    if event_type not in PACKED_TYPES:
        return data
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        raw = canonical.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: kept as JSON escapes, unpacked
        return data
    body = zstandard.ZstdCompressor(level=LEVEL, dict_data=_dictionary(CURRENT)).compress(raw)
    return {f"{_KEY}{CURRENT}": base64.b64encode(body).decode("ascii")}


def unpack(value: Any) -> Any:
    """The data as recorded, from what the column holds (packed or not)."""
    if not (isinstance(value, dict) and len(value) == 1):
        return value
    ((key, body),) = value.items()
    if not (isinstance(key, str) and key.startswith(_KEY) and key[len(_KEY):].isdigit()
            and isinstance(body, str)):
        return value
    dictionary = _dictionary(int(key[len(_KEY):]))
    try:
        raw = zstandard.ZstdDecompressor(dict_data=dictionary).decompress(
            base64.b64decode(body, validate=True))
        return json.loads(raw)
    except (ValueError, zstandard.ZstdError):
        # Damaged: left as stored, so that `verify` names the event whose hash no
        # longer matches, as it does for any other altered data.
        return value


class StoredJSON(TypeDecorator[Any]):
    """The events' `data` column: JSON, unpacked as it is read (see the module)."""

    impl = JSON
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return unpack(value)

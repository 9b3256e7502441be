"""Fast runs of deterministic record ids for the seeds (same ids as `schema.new_id`)."""

from __future__ import annotations

from collections.abc import Iterator

from devorg.schema import id_suffix, new_id

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_PAIRS = [a + b for a in _B62 for b in _B62]
# The last five id characters are a lead digit and two pairs: each pair's share of the
# checksum mask (bit i set when the i-th character of the chunk is an upper-case letter).
_MID_BITS = [(int(p[0].isupper()) | int(p[1].isupper()) << 1) << 1 for p in _PAIRS]
_LOW_BITS = [(int(p[0].isupper()) | int(p[1].isupper()) << 1) << 3 for p in _PAIRS]
_BLOCK = len(_PAIRS)  # 3844 ids share everything but their last two characters
_FAST_LIMIT = 62**5  # below this, id digits 1-4 are "0000" and only the last chunk varies


def id_range(object_name: str, start: int, count: int) -> Iterator[str]:
    """Ids `new_id(object_name, n)` for n in start..start+count-1, quickly."""
    head = new_id(object_name, 0)[:10]  # key prefix, pod, reserved char and four zero digits
    head_suffix = id_suffix(head + "00000")[:2]
    n, end = start, start + count
    while n < end:
        if n >= _FAST_LIMIT:
            yield new_id(object_name, n)
            n += 1
            continue
        block, low = divmod(n, _BLOCK)
        lead, mid = divmod(block, _BLOCK)
        stem = head + _B62[lead] + _PAIRS[mid]
        mask = int(_B62[lead].isupper()) | _MID_BITS[mid]
        stop = min(_BLOCK, low + end - n)
        yield from [
            f"{stem}{_PAIRS[k]}{head_suffix}{_SUFFIX[mask | _LOW_BITS[k]]}"
            for k in range(low, stop)
        ]
        n += stop - low

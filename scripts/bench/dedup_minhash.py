#!/usr/bin/env python3
"""dedup_minhash.py - the Python MinHash dedup a user would write, for
`make bench-dedup` to compare caigen against (standard library only).

Same rule as `caigen prompts dedup` with its defaults: words are runs of
letters and digits, lower-cased; shingles are word bigrams; exact
duplicates by normalised text; 128 hash functions (a*h+b mod p), LSH with
16 bands of 4 rows; a prompt is removed when its estimated Jaccard with a
kept prompt sharing a band is at least 0.7; the first kept wins.

usage: dedup_minhash.py IN.jsonl OUT.jsonl
"""
import hashlib
import json
import random
import re
import sys

PERMS, BANDS, ROWS, NGRAM, THRESHOLD = 128, 16, 4, 2, 0.7
PRIME = (1 << 61) - 1
MAX32 = (1 << 32) - 1
WORD = re.compile(r"[a-z0-9\u0080-\U0010ffff]+")

rnd = random.Random(1)
A = [rnd.randrange(1, PRIME) for _ in range(PERMS)]
B = [rnd.randrange(0, PRIME) for _ in range(PERMS)]


def shingles(text):
    words = WORD.findall(text.lower())
    if len(words) <= NGRAM:
        grams = [" ".join(words)] if words else []
    else:
        grams = [" ".join(words[i:i + NGRAM])
                 for i in range(len(words) - NGRAM + 1)]
    return words, set(grams)


def signature(grams):
    hs = [int.from_bytes(hashlib.sha1(g.encode()).digest()[:4], "little")
          for g in grams]
    return [min(((a * h + b) % PRIME) & MAX32 for h in hs)
            for a, b in zip(A, B)]


def main():
    src, dst = sys.argv[1], sys.argv[2]
    exact = set()
    buckets = [dict() for _ in range(BANDS)]
    sigs = []
    kept = removed = 0
    with open(src, encoding="utf-8") as f, open(dst, "w") as out:
        for line in f:
            if not line.strip():
                continue
            obj = json.loads(line)
            words, grams = shingles(obj["prompt"])
            key = " ".join(words)
            if key in exact:
                removed += 1
                continue
            sig = signature(grams) if grams else None
            dup = False
            if sig:
                for b in range(BANDS):
                    band = tuple(sig[b * ROWS:(b + 1) * ROWS])
                    for c in buckets[b].get(band, ()):
                        same = sum(x == y for x, y in zip(sig, sigs[c]))
                        if same / PERMS >= THRESHOLD:
                            dup = True
                            break
                    if dup:
                        break
            if dup:
                removed += 1
                continue
            exact.add(key)
            idx = len(sigs)
            sigs.append(sig)
            if sig:
                for b in range(BANDS):
                    band = tuple(sig[b * ROWS:(b + 1) * ROWS])
                    buckets[b].setdefault(band, []).append(idx)
            out.write(line)
            kept += 1
    print(f"python: {kept} kept, {removed} removed", file=sys.stderr)


if __name__ == "__main__":
    main()

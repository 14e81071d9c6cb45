#!/usr/bin/python3
"""script_baseline.py - the yardstick of `make bench`: what a user writes in
an afternoon instead of installing caigen, with asyncio and aiohttp.

For every prompt of a JSONL file (one {"id", "prompt"} object a line) it asks
the policy for two answers in one call (n=2), draws a principle from the
constitution, asks the judge once (one order only) for a single letter with
its top logprobs, turns the A/B probabilities into a label and writes one
JSONL line. At most --concurrency prompts are in progress at once (a
semaphore), over one keep-alive connection pool. No retries, no resume, no
input order: the cheap version, which is the point of the comparison.

    /usr/bin/python3 script_baseline.py --prompts P.jsonl --url URL/v1 \
        --out OUT.jsonl [--constitution C.yaml] [--concurrency 64]

On stderr at the end, one line the bench reads:
    script: PROMPTS prompts, REQUESTS requests, FAILED failed, SECONDS s
"""
import argparse
import asyncio
import json
import math
import random
import sys
import time

import aiohttp

JUDGE = ("Consider this conversation between a user and an assistant.\n\n"
         "User: {prompt}\n\nPrinciple: {principle}\n\n"
         "Option (A):\n{a}\n\nOption (B):\n{b}\n\n"
         "Going by the principle, which option is better? "
         "Answer with one letter, A or B.\nThe answer is:")


def principles(path):
    """The comparison principles of a caigen constitution, or one default."""
    try:
        import yaml
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        found = [p["compare"] for p in doc.get("principles", [])
                 if isinstance(p, dict) and p.get("compare")]
        if found:
            return found
    except Exception:  # no PyYAML or no file: the bench does not care
        pass
    return ["Which reply is more helpful, honest and harmless?"]


async def post(session, url, body):
    async with session.post(url, json=body) as r:
        r.raise_for_status()
        return await r.json(content_type=None)


async def label(session, url, args, rules, item, out, counts):
    prompt = item["prompt"]
    policy = await post(session, url, {
        "model": args.policy_model, "n": 2, "temperature": 1.0,
        "max_tokens": 512,
        "messages": [{"role": "user", "content": prompt}]})
    counts["requests"] += 1
    a, b = (c["message"]["content"] for c in policy["choices"][:2])
    rule = random.choice(rules)
    judge = await post(session, url, {
        "model": args.judge_model, "temperature": 0.0, "max_tokens": 1,
        "logprobs": True, "top_logprobs": 20,
        "messages": [{"role": "user", "content": JUDGE.format(
            prompt=prompt, principle=rule, a=a, b=b)}]})
    counts["requests"] += 1
    top = judge["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
    mass = {"A": 0.0, "B": 0.0}
    for t in top:
        letter = t["token"].strip().lstrip("(*").upper()
        if letter in mass:
            mass[letter] += math.exp(t["logprob"])
    total = mass["A"] + mass["B"]
    p_a = mass["A"] / total if total > 0 else 0.5
    chosen, rejected = (a, b) if p_a >= 0.5 else (b, a)
    out.write(json.dumps({
        "id": item.get("id"), "prompt": prompt, "chosen": chosen,
        "rejected": rejected, "p": p_a, "margin": abs(p_a - 0.5),
        "principle": rule}) + "\n")


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", required=True)
    ap.add_argument("--url", required=True, help="base URL, .../v1")
    ap.add_argument("--out", required=True)
    ap.add_argument("--constitution", default="")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--policy-model", default="bench-policy")
    ap.add_argument("--judge-model", default="bench-judge")
    args = ap.parse_args()

    with open(args.prompts, encoding="utf-8") as f:
        items = [json.loads(line) for line in f if line.strip()]
    rules = principles(args.constitution)
    url = args.url.rstrip("/") + "/chat/completions"
    counts = {"requests": 0, "failed": 0}
    sem = asyncio.Semaphore(args.concurrency)
    t0 = time.monotonic()
    conn = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=600)
    with open(args.out, "w", encoding="utf-8") as out:
        async with aiohttp.ClientSession(connector=conn,
                                         timeout=timeout) as session:
            async def one(item):
                async with sem:
                    try:
                        await label(session, url, args, rules, item, out,
                                    counts)
                    except Exception as e:
                        counts["failed"] += 1
                        if counts["failed"] <= 3:
                            print(f"script: {item.get('id')}: {e!r}",
                                  file=sys.stderr)
            await asyncio.gather(*(one(i) for i in items))
    took = time.monotonic() - t0
    print(f"script: {len(items) - counts['failed']} prompts, "
          f"{counts['requests']} requests, {counts['failed']} failed, "
          f"{took:.3f} s", file=sys.stderr)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

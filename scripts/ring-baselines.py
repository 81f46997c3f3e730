#!/usr/bin/env python3
"""Baselines for `locality ring`: balance and movement of Python's uhashring (ketama-style
vnode ring), jump consistent hash and rendezvous hashing (clandestined) on the same keys
("key-0".."key-<K-1>") and member names ("node-0".."node-<N-1>", "node-<N>" joining) as
`locality ring`. Prints one JSON object per library."""
import argparse
import hashlib
import json
import time


def stats(owners, names):
    counts = {name: 0 for name in names}
    for owner in owners:
        counts[owner] += 1
    mean = len(owners) / len(names)
    loads = list(counts.values())
    variance = sum((load - mean) ** 2 for load in loads) / len(loads)
    return max(loads) / mean, variance ** 0.5 / mean


def moved(before, after):
    return sum(1 for a, b in zip(before, after) if a != b) / len(before)


def measure(name, build, keys, nodes):
    names = [f"node-{i}" for i in range(nodes)]
    grown = names + [f"node-{nodes}"]
    start = time.perf_counter()
    lookup = build(names)
    before = [lookup(key) for key in keys]
    elapsed = time.perf_counter() - start
    lookup_grown = build(grown)
    after = [lookup_grown(key) for key in keys]
    max_over_mean, stddev_over_mean = stats(before, names)
    return {
        "library": name,
        "nodes": nodes,
        "keys": len(keys),
        "max_over_mean": round(max_over_mean, 5),
        "stddev_over_mean": round(stddev_over_mean, 5),
        "moved_fraction_on_add": round(moved(before, after), 6),
        "ideal_moved_fraction": round(1 / (nodes + 1), 6),
        "lookups_per_s": round(len(keys) / elapsed),
    }


def uhashring_ring(names):
    from uhashring import HashRing
    ring = HashRing(nodes=names)
    return ring.get_node


def jump_ring(names):
    import jump
    buckets = len(names)

    def lookup(key):
        # Jump hash takes a 64-bit integer key and can only add/remove the last bucket.
        digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
        return names[jump.hash(digest, buckets)]
    return lookup


def rendezvous_ring(names):
    from clandestined import RendezvousHash
    ring = RendezvousHash(nodes=names)
    return ring.find_node


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--keys", type=int, default=1_000_000)
    args = parser.parse_args()
    keys = [f"key-{i}" for i in range(args.keys)]
    for name, build in [("uhashring", uhashring_ring), ("jump-consistent-hash", jump_ring), ("clandestined-rendezvous", rendezvous_ring)]:
        print(json.dumps(measure(name, build, keys, args.nodes)), flush=True)


if __name__ == "__main__":
    main()

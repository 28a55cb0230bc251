#!/usr/bin/env python3
"""Generates test/vectors/anchor-v1.json from docs/integrity.md ("Anchoring") and RFC 9162,
independently of Sealtrail's TypeScript code: Merkle trees by the RFC's recursive MTH/PATH
definitions, anchor hashes by RFC 8785 (the records hold only ASCII strings, small integers
and null, for which sorted-key compact json.dumps is exactly JCS).

    python3 test/vectors/anchor-v1.gen.py > test/vectors/anchor-v1.json
"""
import hashlib
import json
import os
import struct
from datetime import date

HERE = os.path.dirname(os.path.abspath(__file__))
SUBTREE = 256


def sha(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def leaf(b: bytes) -> bytes:
    return sha(b"\x00" + b)


def node(l: bytes, r: bytes) -> bytes:
    return sha(b"\x01" + l + r)


def k_of(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves):  # RFC 9162 §2.1.1 over leaf hashes
    if len(leaves) == 0:
        return sha(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = k_of(len(leaves))
    return node(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):  # RFC 9162 §2.1.3.1, leaf sibling first
    if len(leaves) <= 1:
        return []
    k = k_of(len(leaves))
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def jcs(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def day_tree(event_hashes_hex):
    leaves = [leaf(bytes.fromhex(h)) for h in event_hashes_hex]
    runs = [mth(leaves[i:i + SUBTREE]) for i in range(0, len(leaves), SUBTREE)]
    return leaves, runs, mth(leaves).hex()


def proof(i, leaves):
    return {"leaf_index": i, "tree_size": len(leaves), "path": [p.hex() for p in path(i, leaves)]}


def period(d: str):
    start = date.fromisoformat(d)
    end = date.fromordinal(start.toordinal() + 1)
    return f"{start.isoformat()}T00:00:00.000000Z", f"{end.isoformat()}T00:00:00.000000Z"


def record(ws, d, hashes, previous):
    leaves, runs, root = day_tree(hashes)
    ps, pe = period(d)
    rec = {"v": 1, "workspace_id": ws, "period_start": ps, "period_end": pe, "events_count": len(hashes),
           "merkle_root": root, "first_event_hash": hashes[0], "last_event_hash": hashes[-1],
           "previous_anchor_hash": previous}
    canonical = jcs(rec)
    return {"record": rec, "canonical": canonical, "anchor_hash": hashlib.sha256(canonical.encode()).hexdigest(),
            "subtree_roots": [r.hex() for r in runs]}, leaves


def calldata(root_hex, d, size):
    day_number = (date.fromisoformat(d) - date(1970, 1, 1)).days
    return "0x" + (b"SEALTRAIL" + b"\x01" + bytes.fromhex(root_hex) + struct.pack(">II", day_number, size)).hex()


events = json.load(open(os.path.join(HERE, "event-hash-v1.json")))["vectors"]
stored = []
for v in events:
    # Proofs and bundles carry the hashed object itself: the vector's preimage, parsed (members
    # stay in their canonical order), beside its event_hash.
    e = json.loads(v["preimage"])
    assert hashlib.sha256(v["preimage"].encode()).hexdigest() == v["event_hash"]
    stored.append({"event_hash": v["event_hash"], "event": e, "workspace_id": e["workspace_id"], "created_at": e["created_at"]})
ws_a = stored[0]["workspace_id"]
day1 = [e for e in stored if e["created_at"].startswith("2026-03-15")]
day2 = [e for e in stored if e["created_at"].startswith("2026-03-16")]

# Synthetic workspaces of day 2: event hashes SHA-256("sealtrail vector <ws> <i>").
synthetic = lambda ws, n: [hashlib.sha256(f"sealtrail vector {ws} {i}".encode()).hexdigest() for i in range(n)]
ws_b, ws_c = "ws_01HVZ8Q3J5", "ws_01HVZ8Q3J6"
hashes_b, hashes_c = synthetic(ws_b, 600), synthetic(ws_c, 1)

a1, leaves_a1 = record(ws_a, "2026-03-15", [e["event_hash"] for e in day1], None)
a2, leaves_a2 = record(ws_a, "2026-03-16", [e["event_hash"] for e in day2], a1["anchor_hash"])
b2, leaves_b2 = record(ws_b, "2026-03-16", hashes_b, None)
c2, leaves_c2 = record(ws_c, "2026-03-16", hashes_c, None)


def global_tree(d, anchors):
    anchors = sorted(anchors, key=lambda a: a["record"]["workspace_id"])
    leaves = [leaf(bytes.fromhex(a["anchor_hash"])) for a in anchors]
    root = mth(leaves).hex()
    return {"day": d, "anchor_hashes": [a["anchor_hash"] for a in anchors], "root": root,
            "proofs": [dict(proof(i, leaves), root=root) for i in range(len(leaves))],
            "calldata": calldata(root, d, len(leaves))}


g1 = global_tree("2026-03-15", [a1])
g2 = global_tree("2026-03-16", [a2, b2, c2])

tx = {"chain": "local", "chain_id": 31337, "tx_hash": "0x" + "ab" * 32, "block_number": 7,
      "signer": "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", "status": "confirmed", "explorer_url": None}
anchor_ref = lambda a, i: {"id": i, "record": a["record"], "hash": a["anchor_hash"]}
A2_ID = "00000000-0000-4000-8000-000000000a02"
A1_ID = "00000000-0000-4000-8000-000000000a01"

event_proofs = [{"v": 1, "event_hash": e["event_hash"], "event": e["event"], "inclusion": proof(i, leaves_a2),
                 "anchor": anchor_ref(a2, A2_ID), "global": g2["proofs"][0], "transaction": tx} for i, e in enumerate(day2)]

header = {"type": "sealtrail.anchor_bundle", "v": 1, "anchor": anchor_ref(a2, A2_ID),
          "previous_anchor": anchor_ref(a1, A1_ID), "subtree_size": SUBTREE, "subtree_roots": a2["subtree_roots"],
          "global": g2["proofs"][0], "transaction": tx}
bundle = [header] + [{"type": "event", "event_hash": e["event_hash"], "inclusion": proof(i, leaves_a2), "event": e["event"]}
                     for i, e in enumerate(day2)]

out = {
    "description": "Sealtrail anchoring v1 test vectors (docs/integrity.md, Anchoring): workspace-day trees with their "
                   "256-leaf subtree roots, anchor records and hashes, global trees and their transaction calldata, "
                   "single-event proofs and one bundle. Workspace ws_01HVZ8Q3J4 uses the events of event-hash-v1.json "
                   "(its 2026-03-15 and 2026-03-16 events); the synthetic workspaces' event hashes are "
                   "SHA-256(\"sealtrail vector <workspace_id> <i>\") for i = 0..n-1.",
    "generated_by": "test/vectors/anchor-v1.gen.py: Python written from docs/integrity.md and RFC 9162's recursive "
                    "definitions, not from the Sealtrail TypeScript code",
    "version": 1,
    "day_trees": [
        {"workspace_id": ws_b, "day": "2026-03-16", "events_count": 600, "event_hashes": "synthetic",
         "merkle_root": b2["record"]["merkle_root"], "subtree_roots": b2["subtree_roots"],
         "inclusion_proofs": [proof(i, leaves_b2) for i in (0, 255, 256, 511, 512, 599)]},
        {"workspace_id": ws_a, "day": "2026-03-15", "events_count": len(day1),
         "event_hashes": [e["event_hash"] for e in day1], "merkle_root": a1["record"]["merkle_root"],
         "subtree_roots": a1["subtree_roots"], "inclusion_proofs": [proof(i, leaves_a1) for i in range(len(day1))]},
    ],
    "anchors": [dict(a, id=i) for a, i in ((a1, A1_ID), (a2, A2_ID), (b2, None), (c2, None))],
    "global_trees": [g1, g2],
    "event_proofs": event_proofs,
    "bundle": bundle,
}
print(json.dumps(out, indent=2, ensure_ascii=False))

"""monitor.evidence.merkle against RFC 6962: the Certificate Transparency reference
vectors (as transparency-dev/merkle publishes them, used as data) and the properties
every proof must have."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.evidence.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    inclusion_proofs,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
HASHED = [leaf_hash(leaf) for leaf in LEAVES]
h = bytes.fromhex


def test_roots_match_the_reference_tree_heads_for_every_size() -> None:
    assert EMPTY_ROOT.hex() == ROOTS[0]
    for size in range(len(LEAVES) + 1):
        assert root(HASHED[:size]).hex() == ROOTS[size], size


def test_frontier_gives_the_root_at_every_size_on_the_way() -> None:
    frontier = Frontier()
    assert frontier.root().hex() == ROOTS[0]
    for size, leaf in enumerate(HASHED, start=1):
        frontier.add(leaf)
        assert frontier.root().hex() == ROOTS[size]


def test_inclusion_proofs_match_the_reference() -> None:
    assert inclusion_proof(HASHED, 0) == [h(x) for x in (
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]
    assert inclusion_proof(HASHED, 5) == [h(x) for x in (
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]


def test_consistency_proofs_match_the_reference() -> None:
    assert consistency_proof(HASHED, 2) == [h(x) for x in (
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]
    assert consistency_proof(HASHED[:5], 2) == [h(x) for x in (
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]


def test_a_node_is_not_a_leaf() -> None:
    """The 0x00 / 0x01 prefixes: two leaves' hashes, given as one leaf, are not a node."""
    a, b = HASHED[1], HASHED[2]
    assert leaf_hash(a + b) != node_hash(a, b)


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_every_proof_in_trees_up_to_40_leaves_verifies_and_a_wrong_one_does_not() -> None:
    for n in range(1, 41):
        leaves = _leaves(n)
        top = root(leaves)
        for i in range(n):
            proof = inclusion_proof(leaves, i)
            assert verify_inclusion(leaves[i], i, n, proof, top)
            assert not verify_inclusion(leaves[i], i, n, proof, leaf_hash(b"other"))
            if n > 1:
                assert not verify_inclusion(leaves[i], (i + 1) % n, n, proof, top)
                assert not verify_inclusion(leaves[(i + 1) % n], i, n, proof, top)
        for m in range(1, n + 1):
            proof = consistency_proof(leaves, m)
            old = root(leaves[:m])
            assert verify_consistency(m, n, old, top, proof)
            if m < n:
                assert not verify_consistency(m, n, top, top, proof)
                assert not verify_consistency(m, n, old, old, proof)
                if proof:
                    bad = [proof[0][::-1], *proof[1:]]
                    assert not verify_consistency(m, n, old, top, bad)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 300), st.data())
def test_a_rewritten_prefix_has_no_consistency_proof(n: int, data: st.DataObject) -> None:
    """A tree whose first m leaves differ from the old tree's is not consistent with it,
    whatever proof the new tree offers."""
    m = data.draw(st.integers(1, n - 1))
    changed = data.draw(st.integers(0, m - 1))
    leaves = _leaves(n)
    old_root = root(leaves[:m])
    forged = list(leaves)
    forged[changed] = leaf_hash(b"forged")
    assert not verify_consistency(m, n, old_root, root(forged), consistency_proof(forged, m))
    assert verify_consistency(m, n, old_root, root(leaves), consistency_proof(leaves, m))


@pytest.mark.parametrize("bad", [(-1, 3), (3, 3), (0, 0)])
def test_impossible_proofs_are_refused(bad: tuple[int, int]) -> None:
    index, n = bad
    with pytest.raises(ValueError):
        inclusion_proof(_leaves(n), index)


def test_many_inclusion_proofs_at_once_are_each_leafs_own() -> None:
    for size in range(1, 40):
        leaves = [leaf_hash(str(i).encode()) for i in range(size)]
        top = root(leaves)
        many = inclusion_proofs(leaves, list(range(size)))
        for index in range(size):
            assert many[index] == inclusion_proof(leaves, index), (size, index)
            assert verify_inclusion(leaves[index], index, size, many[index], top)
    with pytest.raises(ValueError, match="leaf 3 is not in a tree of 3"):
        inclusion_proofs(leaves[:3], [3])

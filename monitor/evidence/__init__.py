"""Evidence anyone can check: signed checkpoints over the whole log, kept outside it.

merkle.py: an RFC 6962 tree over the events in position order, with proofs.
keys.py: the Ed25519 key that signs checkpoints, kept beside the store, not in it.
checkpoints.py: what a checkpoint says, signing it, taking one.
witness.py: the append-only file of checkpoints the database does not control.
audit.py: the log checked against every checkpoint `verify` can see.
"""

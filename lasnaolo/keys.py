"""Whether a secret key is good enough for production: long, not a known default, not repetitive.

The rule (README, "Running it for real"):
- at least MIN_KEY_LENGTH (32) characters;
- not a key that is public: the demo keys, values from examples and documentation;
- not a repetition of a shorter string ("abcd" * 10, "changeme" * 4);
- at least MIN_KEY_BITS (128) bits by a conservative estimate: the Shannon entropy of the key's own
  characters times its length ("a" * 40 is 0 bits, "changeme" * 4 about 88; a key from
  `secrets.token_urlsafe(48)` about 330, and never below 250 in 10,000 draws).

A human-chosen sentence may pass the estimate and still be guessable: generate keys, never type them.
"""

from __future__ import annotations

import math
from collections import Counter

MIN_KEY_LENGTH = 32
MIN_KEY_BITS = 128
GENERATE = "python -c \"import secrets; print(secrets.token_urlsafe(48))\""

# Published in this repository (the demo mode's own keys) or in examples and documentation.
DEMO_COOKIE_KEY = "demo-mode-cookie-key-not-a-secret"
DEMO_PSEUDONYM_KEY = "lasnaolo-demo-pseudonyms"
KNOWN_DEFAULT_KEYS = frozenset({
    "", "some_key", "some_signature_key", "random_signature_key", "secret", "changeme", "change-me", "demo",
    "lasnaolo", "abcdef", DEMO_COOKIE_KEY.lower(), DEMO_PSEUDONYM_KEY.lower(),
    "…at least 32 random characters…", "...at least 32 random characters...",
})


def estimated_bits(key: str) -> float:
    """Shannon entropy of the key's own character distribution times its length."""
    if not key:
        return 0.0
    counts = Counter(key)
    n = len(key)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) * n


def is_repetition(key: str) -> bool:
    """The key is a shorter string repeated ("abcabc"): it is found inside itself doubled."""
    return len(key) > 1 and (key + key).find(key, 1) < len(key)


def key_problem(key: str | None, what: str, how_to_set: str) -> str | None:
    """Why the key may not be used in production, or None when it is acceptable.

    `what` names the key ("the cookie key"), `how_to_set` says where to put a new one."""
    key = key or ""
    fix = f"{how_to_set} to a new random value, e.g. `{GENERATE}`"
    if key.strip().lower() in KNOWN_DEFAULT_KEYS:
        return f"{what} is {'missing' if not key.strip() else 'a known default (published, so no secret)'}: set {fix}"
    if len(key) < MIN_KEY_LENGTH:
        return f"{what} is {len(key)} characters; at least {MIN_KEY_LENGTH} random characters are needed: set {fix}"
    if is_repetition(key):
        return f"{what} is a short string repeated, which anyone could guess: set {fix}"
    bits = estimated_bits(key)
    if bits < MIN_KEY_BITS:
        return (f"{what} is not random enough (about {bits:.0f} bits estimated from its characters; "
                f"at least {MIN_KEY_BITS} are needed): set {fix}")
    return None

"""A small constructed audit world with a known truth (for tests and trying the audit in seconds).

Each class has a latent vector; audio embeddings are a noisy linear map of it. Captions are text
(``"a soft alpha sound"``) and the text backbone is a bag of words (:class:`BagOfWords`): each word
has a fixed vector, a class-name word the latent of its class mapped by another linear map, other
words small random vectors. So a caption's embedding follows its words: deleting a word changes it,
and a caption that names a class carries that class's latent.

Planted truths:

* ``leak_fraction``: that share of the seen captions also names an unseen class (label noise: the
  name is written over another class's clip);
* ``relatives``: every unseen class ``"<w> <name>"`` has a seen *relative* ``"<w> <other>"`` whose
  latent is close to its own; the shared word ``<w>`` carries almost nothing (a tiny vector). The
  ``clean`` control removes the relatives (their captions share ``<w>``) and loses the transfer;
  deleting ``<w>`` (``word_masked``) costs almost nothing: the confound is classes, not words.
  With ``shared_weight = 1`` and a small ``relative_name_weight`` the truth is reversed: the shared
  word carries the unseen class's latent and the relative's own name word almost nothing, so the
  transfer rides on the word.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from ...data.table import EmbeddingTable
from ...tasks.zeroshot import format_prompts
from .study import AuditInputs

NAMES = ("alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november "
         "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu").split()
SHARED = ("steel grand bright deep warm dry soft hollow").split()
ADJECTIVES = ("quiet", "loud", "short", "long", "low", "high")
TEMPLATES = ("a {} sound", "the sound of a {}", "this is a {}")


class BagOfWords:
    """A deterministic text backbone: the sum of fixed word vectors (unknown words: a small random
    vector seeded by the word), unit-normalized."""

    def __init__(self, vectors: dict[str, np.ndarray], dim: int, seed: int = 0, scale: float = 0.15):
        self.vectors, self.dim, self.seed, self.scale = dict(vectors), int(dim), int(seed), float(scale)

    def word(self, w: str) -> np.ndarray:
        """The vector of one normalized word."""
        if w not in self.vectors:
            rng = np.random.default_rng([self.seed, zlib.crc32(w.encode())])
            self.vectors[w] = self.scale * rng.normal(size=self.dim)
        return self.vectors[w]

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        from .text import words

        out = np.zeros((len(texts), self.dim))
        for i, t in enumerate(texts):
            for w in words(t):
                out[i] += self.word(w)
        n = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(n, 1e-9)).astype(np.float32)


def synthetic_inputs(n_seen: int = 16, n_unseen: int = 8, clips: int = 10, captions: int = 2,
                     latent: int = 6, d_audio: int = 24, d_text: int = 20, noise: float = 0.3,
                     leak_fraction: float = 0.0, relatives: bool = False, relative_noise: float = 0.3,
                     shared_weight: float = 0.0, relative_name_weight: float = 1.0, seed: int = 0,
                     split_seed: int | None = None) -> AuditInputs:
    """Audit inputs of the constructed world (see the module docstring).

    ``split_seed`` (when given) draws which classes are unseen; the relatives, when planted, stay
    with their unseen class. The default keeps the first ``n_seen`` names seen.
    """
    if n_seen + n_unseen > len(NAMES) or n_unseen < 4 or n_seen < 2:
        raise ValueError(f"need 2 <= n_seen, 4 <= n_unseen and n_seen + n_unseen <= {len(NAMES)}")
    if relatives and (n_unseen > len(SHARED) or n_seen < n_unseen):
        raise ValueError(f"relatives need n_unseen <= {len(SHARED)} and n_seen >= n_unseen")
    rng = np.random.default_rng(seed)
    base = NAMES[: n_seen + n_unseen]
    order = (list(range(len(base))) if split_seed is None
             else list(np.random.default_rng([split_seed, 5]).permutation(len(base))))
    seen_raw = [base[i] for i in order[:n_seen]]
    unseen_raw = [base[i] for i in order[n_seen:]]
    Z = {n: rng.normal(size=latent) for n in base}
    names = {n: n for n in base}
    if relatives:
        for j, (u, r) in enumerate(zip(unseen_raw, seen_raw, strict=False)):
            Z[r] = Z[u] + relative_noise * rng.normal(size=latent)
            names[u], names[r] = f"{SHARED[j]} {u}", f"{SHARED[j]} {r}"
    Ma, Mt = rng.normal(size=(latent, d_audio)), rng.normal(size=(latent, d_text))
    vec = {n: Z[n] @ Mt for n in base}
    vec.update({w: 0.01 * rng.normal(size=d_text) for w in SHARED})
    if relatives:
        for j, (u, r) in enumerate(zip(unseen_raw, seen_raw, strict=False)):
            vec[SHARED[j]] = vec[SHARED[j]] + shared_weight * vec[u]
            vec[r] = relative_name_weight * vec[r]
    enc = BagOfWords(vec, d_text, seed)
    seen, unseen = [names[n] for n in seen_raw], [names[n] for n in unseen_raw]
    a_ids, a_vec, a_lab, caps, pairs, eval_caps = [], [], [], {}, [], []
    for raw in base:
        name = names[raw]
        for j in range(clips):
            aid = f"{raw}-{j}"
            a_ids.append(aid)
            a_lab.append(name)
            a_vec.append(Z[raw] @ Ma + noise * rng.normal(size=d_audio))
            for m in range(captions):
                tid = f"{aid}-c{m}"
                adj = ADJECTIVES[int(rng.integers(len(ADJECTIVES)))]
                leak = raw in seen_raw and rng.random() < leak_fraction
                other = unseen[int(rng.integers(len(unseen)))] if leak else ""
                caps[tid] = f"a {adj} {name} sound" + (f" like a {other}" if leak else "")
                if raw in seen_raw:
                    if not aid.endswith("-0"):
                        pairs.append((aid, tid))
                else:
                    eval_caps.append((tid, name))
    t_ids = list(caps)
    text = EmbeddingTable(t_ids, enc([caps[t] for t in t_ids]))
    prompts_all = {c: np.stack([enc([p])[0] for p in format_prompts(TEMPLATES, [c])])
                   for c in seen + unseen}
    held = [i for i, lab in zip(a_ids, a_lab, strict=True) if lab in seen and i.endswith("-0")]
    un = set(unseen)
    return AuditInputs(
        audio=EmbeddingTable(a_ids, np.array(a_vec), a_lab), text=text, pairs=pairs, captions=caps,
        eval_ids=[i for i, lab in zip(a_ids, a_lab, strict=True) if lab in un],
        eval_labels=[lab for lab in a_lab if lab in un], classes=list(unseen),
        prompts=np.stack([prompts_all[c] for c in unseen], axis=1),
        seen_classes=list(seen), seen_prompts=np.stack([prompts_all[c] for c in seen], axis=1),
        gzsl_ids=held, gzsl_labels=[a_lab[a_ids.index(i)] for i in held], text_encoder=enc,
        eval_text_ids=[t for t, _ in eval_caps], eval_text_labels=[c for _, c in eval_caps],
        split_seed=split_seed)

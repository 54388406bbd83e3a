"""A small synthetic audit world (for tests, the benchmark and trying the command in seconds).

Each class has a latent vector; audio and text backbone embeddings are two different noisy linear
maps of it, so projection heads trained on the seen classes transfer to the unseen ones. Class
names are the NATO alphabet; a ``leak_fraction`` of the seen captions also name an unseen class.
"""

from __future__ import annotations

import numpy as np

from ...data.table import EmbeddingTable
from .study import AuditInputs

NAMES = ("alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november "
         "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu").split()


def synthetic_inputs(n_seen: int = 16, n_unseen: int = 8, clips: int = 10, captions: int = 2,
                     latent: int = 6, d_audio: int = 24, d_text: int = 20, noise: float = 0.3,
                     leak_fraction: float = 0.0, seed: int = 0) -> AuditInputs:
    """Audit inputs of a synthetic benchmark (see the module docstring)."""
    if n_seen + n_unseen > len(NAMES) or n_unseen < 4 or n_seen < 2:
        raise ValueError(f"need 2 <= n_seen, 4 <= n_unseen and n_seen + n_unseen <= {len(NAMES)}")
    rng = np.random.default_rng(seed)
    names = NAMES[: n_seen + n_unseen]
    seen, unseen = names[:n_seen], names[n_seen:]
    Z = rng.normal(size=(len(names), latent))
    Ma, Mt = rng.normal(size=(latent, d_audio)), rng.normal(size=(latent, d_text))
    a_ids, a_vec, a_lab, t_ids, t_vec, pairs, caps = [], [], [], [], [], [], {}
    for c, name in enumerate(names):
        for j in range(clips):
            aid = f"{name}-{j}"
            a_ids.append(aid)
            a_lab.append(name)
            a_vec.append(Z[c] @ Ma + noise * rng.normal(size=d_audio))
            if name not in seen:
                continue
            for m in range(captions):
                tid = f"{aid}-c{m}"
                leak = rng.random() < leak_fraction
                other = unseen[int(rng.integers(len(unseen)))] if leak else ""
                caps[tid] = f"a {name} sound" + (f" like a {other}" if leak else "")
                t_ids.append(tid)
                t_vec.append(Z[c] @ Mt + noise * rng.normal(size=d_text))
                pairs.append((aid, tid))
    prompts = np.stack([Z @ Mt + 0.05 * rng.normal(size=(len(names), d_text)) for _ in range(2)])
    is_un = np.array([n in unseen for n in names])
    held = [i for i, lab in zip(a_ids, a_lab, strict=True) if lab in seen and i.endswith("-0")]
    audio = EmbeddingTable(a_ids, np.array(a_vec), a_lab)
    return AuditInputs(
        audio=audio, text=EmbeddingTable(t_ids, np.array(t_vec)),
        pairs=[p for p in pairs if not p[0].endswith("-0")], captions=caps,
        eval_ids=[i for i, lab in zip(a_ids, a_lab, strict=True) if lab in unseen],
        eval_labels=[lab for lab in a_lab if lab in unseen], classes=list(unseen),
        prompts=prompts[:, is_un], seen_classes=list(seen), seen_prompts=prompts[:, ~is_un],
        gzsl_ids=held, gzsl_labels=[i.rsplit("-", 1)[0] for i in held])

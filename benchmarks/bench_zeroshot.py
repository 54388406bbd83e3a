"""Speed of the zero-shot pieces at the scale of the paper's CIFAR-100 study.

- the template study: 10,000 media embeddings (d = 512), 100 classes, 18 templates (synthetic model
  from shared prototypes, so no download is needed);
- zero-shot metrics on a 10,000 x 100 score matrix;
- retrieval metrics in both directions for 5,000 captions against 1,000 clips (5 per clip).

Run: ``PYTHONPATH=src python benchmarks/bench_zeroshot.py``
"""

from __future__ import annotations

import time

import numpy as np

from pairspace import zeroshot


def timed(label: str, fn, repeat: int = 3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    print(f"{label:<60s} {best * 1000:9.1f} ms")
    return out


def main() -> None:
    d = zeroshot.synthetic_zeroshot(n_classes=100, per_class=100, dim=512, n_templates=18,
                                    media_noise=1.0, text_noise=(0.5, 4.0), seed=0)
    res = timed("template study (n=10000, d=512, C=100, T=18, curve to k=50)",
                lambda: zeroshot.template_study(d["media"], d["templates"], d["class_names"], d["labels"],
                                                text_embeddings=d["text_embeddings"], groups=d["groups"]))
    c = res.correlations
    print(f"  synthetic: Pearson NNGS {c['nngs']['pearson']:.3f}, "
          f"linear CKA {c['linear_cka']['pearson']:.3f},"
          f" mutual kNN {c['mutual_knn']['pearson']:.3f}")
    rng = np.random.default_rng(0)
    S = rng.normal(size=(10000, 100))
    y = rng.integers(0, 100, size=10000)
    timed("zeroshot_metrics (10000 x 100 scores)", lambda: zeroshot.zeroshot_metrics(S, y))
    G = rng.normal(size=(1000, 512))
    clip_of = np.repeat(np.arange(1000), 5)
    Q = G[clip_of] + 12.0 * rng.normal(size=(5000, 512))
    r = timed("retrieval_metrics (5000 captions x 1000 clips, both ways)",
              lambda: zeroshot.retrieval_metrics(Q, G, clip_of))
    print(f"  caption->clip R@1 {r['query_to_gallery']['R@1']:.3f}, clip->caption R@1 "
          f"{r['gallery_to_query']['R@1']:.3f}")


if __name__ == "__main__":
    main()

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pairspace.align import (
    ClapProjection,
    LogitScale,
    build_head,
    contrastive_loss,
    scaled_logits,
    soft_contrastive_loss,
    soft_targets,
)

torch.set_num_threads(1)


def naive_infonce(L):
    L = np.asarray(L, dtype=np.float64)
    n = L.shape[0]
    a2t = t2a = 0.0
    for i in range(n):
        a2t -= L[i, i] - math.log(sum(math.exp(L[i, j]) for j in range(n)))
        t2a -= L[i, i] - math.log(sum(math.exp(L[j, i]) for j in range(n)))
    return 0.5 * (a2t / n + t2a / n)


def naive_soft(L, Ta, Ta_t, beta):
    L = np.asarray(L, dtype=np.float64)
    n = L.shape[0]

    def targets(T):
        T = np.asarray(T, dtype=np.float64)
        Y = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                cos = T[i] @ T[j] / (np.linalg.norm(T[i]) * np.linalg.norm(T[j]))
                v = (1 - beta) * (i == j) + beta * cos
                Y[i, j] = v if v > 0 else 0.0
        return Y

    def kl(Y, M):
        tot = 0.0
        for i in range(n):
            lse = math.log(sum(math.exp(M[i, k]) for k in range(n)))
            for j in range(n):
                if Y[i, j] > 0:
                    tot += Y[i, j] * (math.log(Y[i, j]) - (M[i, j] - lse))
        return tot / n

    return 0.5 * (kl(targets(Ta), L) + kl(targets(Ta_t), L.T))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 6), seed=st.integers(0, 10_000))
def test_infonce_matches_naive(n, seed):
    L = torch.from_numpy(np.random.default_rng(seed).normal(scale=5, size=(n, n)))
    assert float(contrastive_loss(L)) == pytest.approx(naive_infonce(L.numpy()), rel=1e-10, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 6), beta=st.floats(0.0, 1.0), seed=st.integers(0, 10_000))
def test_soft_loss_matches_naive(n, beta, seed):
    rng = np.random.default_rng(seed)
    L = torch.from_numpy(rng.normal(scale=3, size=(n, n)))
    Ta = torch.from_numpy(rng.normal(size=(n, 5)))
    Tt = torch.from_numpy(rng.normal(size=(n, 3)))
    got = float(soft_contrastive_loss(L, Ta, Tt, beta=beta))
    assert got == pytest.approx(naive_soft(L.numpy(), Ta.numpy(), Tt.numpy(), beta), rel=1e-9, abs=1e-12)


def test_soft_targets_clamp_negative_entries():
    # two anti-parallel teacher vectors: cosine -1, so the off-diagonal target is clamped to 0
    T = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.6, 0.8]], dtype=torch.float64)
    Y = soft_targets(T, beta=0.5)
    assert Y[0, 1] == 0.0 and Y[1, 0] == 0.0
    assert float(Y[0, 2]) == pytest.approx(0.5 * 0.6)
    assert float(Y[1, 2]) == 0.0  # 0.5 * -0.6 clamped
    assert torch.allclose(torch.diagonal(Y), torch.ones(3, dtype=torch.float64))
    # teacher scale does not matter: normalized inside
    assert torch.allclose(soft_targets(7.0 * T, 0.5), Y)


@pytest.mark.parametrize("seed", range(5))
def test_beta_zero_equals_hard_loss(seed):
    rng = np.random.default_rng(seed)
    L = torch.from_numpy(rng.normal(scale=4, size=(9, 9)))
    Ta, Tt = torch.from_numpy(rng.normal(size=(9, 4))), torch.from_numpy(rng.normal(size=(9, 6)))
    hard, soft = contrastive_loss(L), soft_contrastive_loss(L, Ta, Tt, beta=0.0)
    assert abs(float(hard) - float(soft)) <= 1e-12
    # gradients agree too
    L1, L2 = L.clone().requires_grad_(), L.clone().requires_grad_()
    contrastive_loss(L1).backward()
    soft_contrastive_loss(L2, Ta, Tt, beta=0.0).backward()
    assert torch.allclose(L1.grad, L2.grad, atol=1e-14)


def test_soft_loss_beta_changes_value_and_bad_input():
    rng = np.random.default_rng(0)
    L = torch.from_numpy(rng.normal(size=(5, 5)))
    T = torch.from_numpy(rng.normal(size=(5, 3)))
    assert float(soft_contrastive_loss(L, T, T, 0.3)) != pytest.approx(float(contrastive_loss(L)))
    with pytest.raises(ValueError, match="beta"):
        soft_contrastive_loss(L, T, T, beta=1.5)
    with pytest.raises(ValueError, match="teacher_text"):
        soft_contrastive_loss(L, T, T[:4], beta=0.3)
    with pytest.raises(ValueError, match="square"):
        contrastive_loss(L[:3])
    with pytest.raises(ValueError, match="NaN"):
        contrastive_loss(L * float("nan"))


def test_logit_scale_init_and_clamp():
    s = LogitScale()
    assert s().item() == pytest.approx(1 / 0.07, rel=1e-6)
    with torch.no_grad():
        s.log_scale.fill_(10.0)  # e^10 >> 100
    assert s().item() == 100.0
    a = torch.randn(4, 3, dtype=torch.float64)
    L = scaled_logits(a, a, s())
    assert L.detach().abs().max().item() <= 100.0 + 1e-9
    assert torch.allclose(torch.diagonal(L), torch.full((4,), 100.0, dtype=torch.float64))


def test_clap_projection_structure():
    torch.manual_seed(0)
    h = ClapProjection(7, 5, dropout=0.0).double()
    assert h.linear1.bias is None and h.linear2.bias is None
    x = torch.randn(3, 7, dtype=torch.float64)
    z = x @ h.linear1.weight.t()
    ref = torch.nn.functional.layer_norm(z + torch.nn.functional.gelu(z) @ h.linear2.weight.t(), (5,),
                                         h.layer_norm.weight, h.layer_norm.bias)
    assert torch.allclose(h(x), ref)
    for kind in ("linear", "mlp", "clap"):
        assert build_head(kind, 7, 5)(x.float()).shape == (3, 5)
    with pytest.raises(ValueError, match="unknown head"):
        build_head("transformer", 7, 5)

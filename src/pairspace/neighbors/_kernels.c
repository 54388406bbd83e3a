/* Selection and refinement kernels of the exact kNN search (pairspace.neighbors._ckernels).
 *
 * Loaded with ctypes (pairspace.neighbors.kernels), which releases the GIL during every call.
 * The package works without them: every kernel has a numpy twin, and the tests compare the two.
 *
 * Candidates of a query are kept in a max-heap of 64-bit keys
 *
 *     key(s, j) = (order-preserving bits of the float32 score s) << 32 | j
 *
 * so one unsigned comparison orders (score, index) lexicographically: a smaller score first, and
 * among equal scores the lower index, which is the tie rule of the published NNGS code. The order
 * in which the database rows arrive is then irrelevant. An empty slot holds key(+inf, 2^32 - 1).
 * Indices must be below 2^32 - 1 (the caller checks).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define PS_SSE2 1
#endif
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define PS_AVX2 1 /* compiled with target("avx2"), chosen at run time */
#endif

#define EMPTY_KEY 0xFF800000FFFFFFFFull /* key(+inf, 2^32 - 1) */

static inline uint64_t key_of(float s, int64_t j) {
    uint32_t u;
    s += 0.0f; /* -0 -> +0: equal scores get equal keys */
    memcpy(&u, &s, 4);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return ((uint64_t)u << 32) | (uint64_t)(uint32_t)j;
}

static inline float score_of(uint64_t key) {
    uint32_t u = (uint32_t)(key >> 32);
    float s;
    u = (u & 0x80000000u) ? (u & 0x7fffffffu) : ~u;
    memcpy(&s, &u, 4);
    return s;
}

/* Max-heap of kk keys: put `key` (smaller than the top) in place of the top. */
static inline void heap_replace_top(uint64_t *h, int64_t kk, uint64_t key) {
    int64_t pos = 0;
    for (;;) {
        int64_t c = 2 * pos + 1;
        if (c >= kk) break;
        c += (c + 1 < kk && h[c + 1] > h[c]);
        if (h[c] <= key) break;
        h[pos] = h[c];
        pos = c;
    }
    h[pos] = key;
}

static void sift_down(uint64_t *h, int64_t root, int64_t m) {
    for (;;) {
        int64_t c = 2 * root + 1;
        if (c >= m) return;
        c += (c + 1 < m && h[c + 1] > h[c]);
        if (h[root] >= h[c]) return;
        uint64_t t = h[root];
        h[root] = h[c];
        h[c] = t;
        root = c;
    }
}

static void heapify(uint64_t *h, int64_t m) {
    for (int64_t r = m / 2 - 1; r >= 0; r--) sift_down(h, r, m);
}

/* Quickselect on distinct keys: afterwards a[0:k] holds the k smallest (unordered). */
static void select_keys(uint64_t *a, int64_t m, int64_t k) {
    int64_t lo = 0, hi = m - 1, kth = k - 1;
    while (hi > lo) {
        int64_t mid = lo + (hi - lo) / 2, store = lo;
        uint64_t x = a[lo], y = a[mid], z = a[hi], p;
        int64_t ip = x < y ? (y < z ? mid : (x < z ? hi : lo)) : (x < z ? lo : (y < z ? hi : mid));
        p = a[ip];
        a[ip] = a[hi];
        a[hi] = p;
        for (int64_t t = lo; t < hi; t++) {
            if (a[t] < p) {
                uint64_t v = a[t];
                a[t] = a[store];
                a[store++] = v;
            }
        }
        a[hi] = a[store];
        a[store] = p;
        if (store == kth) return;
        if (store < kth) lo = store + 1;
        else hi = store - 1;
    }
}

/* Bit u of the result: row[u] <= thr, or row[u] <= col[u] when col is given (u < w <= 16). */
static inline unsigned hits_tail(const float *row, int64_t w, float thr, const float *col) {
    unsigned m = 0;
    for (int64_t u = 0; u < w; u++) m |= (unsigned)((row[u] <= thr) | (col != NULL && row[u] <= col[u])) << u;
    return m;
}

/* Bit u: row[u] >= thr (16 lanes). */
static inline unsigned hits_tail_ge(const float *row, float thr) {
    unsigned m = 0;
    for (int u = 0; u < 16; u++) m |= (unsigned)(row[u] >= thr) << u;
    return m;
}

/* hits_tail of 16 lanes, with SSE2. */
static inline unsigned hits16(const float *row, float thr, const float *col) {
#ifdef PS_SSE2
    __m128 t = _mm_set1_ps(thr);
    unsigned m = 0;
    for (int q = 0; q < 4; q++) {
        __m128 r = _mm_loadu_ps(row + 4 * q);
        __m128 c = _mm_cmple_ps(r, t);
        if (col) c = _mm_or_ps(c, _mm_cmple_ps(r, _mm_loadu_ps(col + 4 * q)));
        m |= (unsigned)_mm_movemask_ps(c) << (4 * q);
    }
    return m;
#else
    return hits_tail(row, 16, thr, col);
#endif
}

/* Selection scores of raw products s (n == NULL: -s; else the squared distance
 * (n_i + n[j]) - 2 s of rows with float32 squared norms), the same operations in every path. */
static inline void score_n(const float *s, int64_t m, float ni, const float *n, float *out) {
    int64_t j = 0;
#ifdef PS_SSE2
    const __m128 vi = _mm_set1_ps(ni), zero = _mm_setzero_ps();
    for (; j + 4 <= m; j += 4) {
        __m128 v = _mm_loadu_ps(s + j);
        v = n ? _mm_sub_ps(_mm_add_ps(vi, _mm_loadu_ps(n + j)), _mm_add_ps(v, v)) : _mm_sub_ps(zero, v);
        _mm_storeu_ps(out + j, v);
    }
#endif
    for (; j < m; j++) out[j] = n ? (ni + n[j]) - (s[j] + s[j]) : 0.0f - s[j];
}

static inline int lowest_bit(unsigned m) {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctz(m);
#else
    int b = 0;
    while (!(m & 1u)) { m >>= 1; b++; }
    return b;
#endif
}

/* Seed the heap of one query from its own block row (skipping column `self`), in one batch:
 * a sample of every 8th entry gives a threshold that about 1.5 kk entries pass, those keys are
 * selected exactly, and the heap is built from them (all entries if the sample guessed low). */
static void seed_row(const float *row, int64_t w, int64_t col0, int64_t self, int64_t kk,
                     uint64_t *heap, uint64_t *tmp) {
    int64_t m = 0, r = kk / 8 + kk / 16 + 4;
    float thr = __builtin_inff();
    if (w >= 16 * r) {
        for (int64_t j = 0; j < w; j += 8)
            if (j != self) tmp[m++] = key_of(row[j], col0 + j);
        if (m > r) {
            select_keys(tmp, m, r);
            uint64_t mx = tmp[0];
            for (int64_t t = 1; t < r; t++) mx = tmp[t] > mx ? tmp[t] : mx;
            thr = score_of(mx);
        }
    }
    for (;;) {
        m = 0;
        int64_t j = 0;
        for (; j + 16 <= w; j += 16) {
            unsigned bits = hits16(row + j, thr, NULL);
            while (bits) {
                int64_t u = j + lowest_bit(bits);
                bits &= bits - 1;
                if (u != self) tmp[m++] = key_of(row[u], col0 + u);
            }
        }
        for (; j < w; j++)
            if (j != self && row[j] <= thr) tmp[m++] = key_of(row[j], col0 + j);
        if (m >= kk || thr == __builtin_inff()) break;
        thr = __builtin_inff(); /* the sample guessed low: take every entry */
    }
    if (m > kk) select_keys(tmp, m, kk);
    int64_t have = m < kk ? m : kk;
    for (int64_t t = 0; t < have; t++) heap[t] = tmp[t];
    for (int64_t t = have; t < kk; t++) heap[t] = EMPTY_KEY;
    heapify(heap, kk);
}

/* Feed the h x w block S (row stride ld) of products of queries row0 + i with database rows
 * col0 + j into the heaps `rh` (h x kk) of the row queries and, when `ch` is given, into the
 * heaps `ch` (w x kk) of the column queries (the transposed block), whose current top scores are
 * `ct` (w); `rh` may be NULL (only the column queries). The scores are those of score_n, with the
 * float32 squared norms `nr` (h) and `nc` (w) of the rows and columns (both NULL: -s).
 * diag: the block is a query block against itself; the heaps of its rows are seeded from it
 * (seed_row) and the item itself is skipped. `tmp` holds w keys and `buf` w floats. */
void ps_feed(const float *S, int64_t h, int64_t w, int64_t ld, int64_t row0, int64_t col0,
             int64_t kk, uint64_t *rh, uint64_t *ch, float *ct, int diag, const float *nr,
             const float *nc, uint64_t *tmp, float *buf) {
    const int64_t TILE = 256; /* the heaps of a 256 x 256 tile of scores stay in cache */
    if (diag) {
        for (int64_t i = 0; i < h; i++) {
            score_n(S + i * ld, w, nr ? nr[i] : 0.0f, nc, buf);
            seed_row(buf, w, col0, i, kk, rh + i * kk, tmp);
        }
        return;
    }
    for (int64_t i0 = 0; i0 < h; i0 += TILE)
    for (int64_t j0 = 0; j0 < w; j0 += TILE) {
        int64_t j1 = j0 + TILE < w ? j0 + TILE : w, i1 = i0 + TILE < h ? i0 + TILE : h;
        for (int64_t i = i0; i < i1; i++) {
            const float *row = S + i * ld;
            uint64_t *hp = rh ? rh + i * kk : NULL;
            float t = hp ? score_of(hp[0]) : -__builtin_inff(), v[16];
            float ni = nr ? nr[i] : 0.0f;
            uint64_t gi = (uint64_t)(row0 + i);
            for (int64_t j = j0; j < j1; j += 16) {
                int64_t lanes = j + 16 <= j1 ? 16 : j1 - j;
                score_n(row + j, lanes, ni, nc ? nc + j : NULL, v);
                unsigned bits = lanes == 16 ? hits16(v, t, ch ? ct + j : NULL)
                                            : hits_tail(v, lanes, t, ch ? ct + j : NULL);
                while (bits) {
                    int lane = lowest_bit(bits);
                    int64_t u = j + lane;
                    float sc = v[lane];
                    bits &= bits - 1;
                    if (sc <= t) {
                        uint64_t key = key_of(sc, col0 + u);
                        if (key < hp[0]) {
                            heap_replace_top(hp, kk, key);
                            t = score_of(hp[0]);
                        }
                    }
                    if (ch && sc <= ct[u]) {
                        uint64_t *c = ch + u * kk, key = key_of(sc, (int64_t)gi);
                        if (key < c[0]) {
                            heap_replace_top(c, kk, key);
                            ct[u] = score_of(c[0]);
                        }
                    }
                }
            }
        }
    }
}

/* Feed the products `row` (w) of one query with database rows col0 + j into its heap `hp`, with
 * the score -p (no norms): an entry can enter only if p >= -t, t the heap's top score (the same
 * comparison as -p <= t, negation being exact), so the scores of the others are never formed. */
#define PS_FEED_NEG_BODY(SET1, CMP_HITS16)                                                     \
    float t = score_of(hp[0]);                                                                 \
    int64_t j = 0;                                                                             \
    SET1;                                                                                      \
    for (; j + 16 <= w; j += 16) {                                                             \
        unsigned bits = CMP_HITS16;                                                            \
        while (bits) {                                                                         \
            int lane = lowest_bit(bits);                                                       \
            uint64_t key = key_of(0.0f - row[j + lane], col0 + j + lane);                      \
            bits &= bits - 1;                                                                  \
            if (key < hp[0]) {                                                                 \
                heap_replace_top(hp, kk, key);                                                 \
                t = score_of(hp[0]);                                                           \
                SET1;                                                                          \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
    for (; j < w; j++) {                                                                       \
        float sc = 0.0f - row[j];                                                              \
        uint64_t key = key_of(sc, col0 + j);                                                   \
        if (sc <= t && key < hp[0]) {                                                          \
            heap_replace_top(hp, kk, key);                                                     \
            t = score_of(hp[0]);                                                               \
        }                                                                                      \
    }

static void feed_neg(const float *row, int64_t w, int64_t col0, int64_t kk, uint64_t *hp) {
#ifdef PS_SSE2
    __m128 nt;
    PS_FEED_NEG_BODY(nt = _mm_set1_ps(-t),
                     (unsigned)_mm_movemask_ps(_mm_cmpge_ps(_mm_loadu_ps(row + j), nt))
                     | (unsigned)_mm_movemask_ps(_mm_cmpge_ps(_mm_loadu_ps(row + j + 4), nt)) << 4
                     | (unsigned)_mm_movemask_ps(_mm_cmpge_ps(_mm_loadu_ps(row + j + 8), nt)) << 8
                     | (unsigned)_mm_movemask_ps(_mm_cmpge_ps(_mm_loadu_ps(row + j + 12), nt)) << 12)
#else
    float nt;
    PS_FEED_NEG_BODY(nt = -t, hits_tail_ge(row + j, nt))
#endif
}

#ifdef PS_AVX2
__attribute__((target("avx2"))) static void feed_neg_avx2(const float *row, int64_t w,
                                                          int64_t col0, int64_t kk, uint64_t *hp) {
    __m256 nt;
    PS_FEED_NEG_BODY(nt = _mm256_set1_ps(-t),
                     (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row + j), nt,
                                                                _CMP_GE_OQ))
                     | (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row + j + 8), nt,
                                                                  _CMP_GE_OQ)) << 8)
}
#endif

/* One-sided feed with gathered queries (the list-major scan of the IVF backend): row i of the
 * h x w block S (row stride ld) holds the products of the query whose heap is heaps + rows[i] * kk
 * with database rows col0 + j. Scores as in score_n, with the gathered query norms nr (h) and the
 * column norms nc (w), or both NULL (then feed_neg, with AVX2 where the CPU has it). No item is
 * skipped (the caller drops the query itself). */
void ps_feed_rows(const float *S, int64_t h, int64_t w, int64_t ld, const int64_t *rows,
                  int64_t col0, int64_t kk, uint64_t *heaps, const float *nr, const float *nc) {
#ifdef PS_AVX2
    static int avx2 = -1;
    if (avx2 < 0) avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
#endif
    for (int64_t i = 0; i < h; i++) {
        const float *row = S + i * ld;
        uint64_t *hp = heaps + rows[i] * kk;
        if (!nc) {
#ifdef PS_AVX2
            if (avx2) {
                feed_neg_avx2(row, w, col0, kk, hp);
                continue;
            }
#endif
            feed_neg(row, w, col0, kk, hp);
            continue;
        }
        float t = score_of(hp[0]), ni = nr[i], v[16];
        for (int64_t j = 0; j < w; j += 16) {
            int64_t lanes = j + 16 <= w ? 16 : w - j;
            score_n(row + j, lanes, ni, nc + j, v);
            unsigned bits = lanes == 16 ? hits16(v, t, NULL) : hits_tail(v, lanes, t, NULL);
            while (bits) {
                int lane = lowest_bit(bits);
                uint64_t key = key_of(v[lane], col0 + j + lane);
                bits &= bits - 1;
                if (key < hp[0]) {
                    heap_replace_top(hp, kk, key);
                    t = score_of(hp[0]);
                }
            }
        }
    }
}

/* The kk smallest (score, column) keys of every row of the h x w block S (row stride ld), as
 * heaps (h x kk) for ps_finish, selected in one batch per row (seed_row, no column skipped).
 * Scores as in score_n with the row norms nr (h) and column norms nc (w), or both NULL. */
void ps_select_rows(const float *S, int64_t h, int64_t w, int64_t ld, int64_t kk,
                    uint64_t *heaps, const float *nr, const float *nc, uint64_t *tmp, float *buf) {
    for (int64_t i = 0; i < h; i++) {
        score_n(S + i * ld, w, nr ? nr[i] : 0.0f, nc, buf);
        seed_row(buf, w, 0, -1, kk, heaps + i * kk, tmp);
    }
}

/* Top scores of b heaps (the thresholds `ct` of ps_feed). */
void ps_tops(int64_t b, int64_t kk, const uint64_t *heaps, float *out) {
    for (int64_t q = 0; q < b; q++) out[q] = score_of(heaps[q * kk]);
}

/* Sort b heaps of kk keys into scores (b x kk, ascending) and indices (-1: empty slot). */
void ps_finish(int64_t b, int64_t kk, uint64_t *heaps, float *scores, int64_t *indices) {
    for (int64_t q = 0; q < b; q++) {
        uint64_t *h = heaps + q * kk;
        for (int64_t e = kk - 1; e > 0; e--) {
            uint64_t t = h[0];
            h[0] = h[e];
            h[e] = t;
            sift_down(h, 0, e);
        }
        for (int64_t t = 0; t < kk; t++) {
            int empty = (uint32_t)h[t] == 0xFFFFFFFFu;
            scores[q * kk + t] = empty ? __builtin_inff() : score_of(h[t]);
            indices[q * kk + t] = empty ? -1 : (int64_t)(uint32_t)h[t];
        }
    }
}

/* dots[i, c] = sum_t Q[q[i], t] * C[cand[i, c], t] in float64 for float32 rows of length d (each
 * product of two float32 numbers is exact in float64, so only the sums round, always in the same
 * order). Entries with a negative candidate, or with mask[i, c] == 0 when a mask is given, are
 * left untouched. The next candidate row is prefetched while one is computed. */
void ps_dots_f32(const float *Q, const int64_t *q, int64_t b, const float *C, const int64_t *cand,
                 int64_t width, int64_t d, const uint8_t *mask, double *dots) {
    int64_t next = -1; /* the next entry to compute, whose row is prefetched meanwhile */
    for (int64_t e = 0; e < b * width && next < 0; e++)
        if (cand[e] >= 0 && (!mask || mask[e])) next = e;
    while (next >= 0) {
        int64_t e = next, i = e / width, j = cand[e];
        for (next = e + 1; next < b * width; next++)
            if (cand[next] >= 0 && (!mask || mask[next])) break;
        if (next == b * width) next = -1;
#if defined(__GNUC__) || defined(__clang__)
        if (next >= 0)
            for (int64_t t = 0; t < d; t += 16) __builtin_prefetch(C + cand[next] * d + t);
#endif
        {
            const float *x = Q + q[i] * d;
            const float *y = C + j * d;
            double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s;
            int64_t t = 0;
            for (; t + 8 <= d; t += 8)
                for (int u = 0; u < 8; u++) acc[u] += (double)x[t + u] * (double)y[t + u];
            s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
            for (; t < d; t++) s += (double)x[t] * (double)y[t];
            dots[e] = s;
        }
    }
}

/* A valid (empty) extension module, so that the build and import machinery accept the file. */
static struct PyModuleDef ps_module = {PyModuleDef_HEAD_INIT, "_ckernels",
                                       "C kernels of pairspace.neighbors (loaded with ctypes).", -1,
                                       NULL};

PyMODINIT_FUNC PyInit__ckernels(void) { return PyModule_Create(&ps_module); }

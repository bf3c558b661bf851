#include "RenderKernels.h"
#include <math.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* BT.709 limited range, 16.16 fixed point.
   Y  =  16 + ( 0.1826 R + 0.6142 G + 0.0620 B)
   Cb = 128 + (-0.1006 R - 0.3386 G + 0.4392 B)
   Cr = 128 + ( 0.4392 R - 0.3989 G - 0.0403 B) */
#define FIX(x) ((int32_t)((x) * 65536.0 + 0.5))
static const int32_t YR = FIX(0.1826), YG = FIX(0.6142), YB = FIX(0.0620);
static const int32_t UR = FIX(0.1006), UG = FIX(0.3386), UB = FIX(0.4392);
static const int32_t VR = FIX(0.4392), VG = FIX(0.3989), VB = FIX(0.0403);

static inline uint8_t clamp8(int32_t v) { return (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v)); }

void rk_rgb_to_yuv(uint8_t r, uint8_t g, uint8_t b, uint8_t *y, uint8_t *u, uint8_t *v) {
    *y = clamp8(16 + ((YR * r + YG * g + YB * b + 32768) >> 16));
    *u = clamp8(128 + ((-UR * r - UG * g + UB * b + 32768) >> 16));
    *v = clamp8(128 + ((VR * r - VG * g - VB * b + 32768) >> 16));
}

void rk_rgba_to_yuva420(const uint8_t *rgba, int width, int height, ptrdiff_t rgba_stride,
                        uint8_t *y, ptrdiff_t y_stride, uint8_t *u, ptrdiff_t u_stride, uint8_t *v, ptrdiff_t v_stride,
                        uint8_t *a, ptrdiff_t a_stride, uint8_t *ca, ptrdiff_t ca_stride) {
    for (int row = 0; row < height; row += 2) {
        const uint8_t *p0 = rgba + (ptrdiff_t)row * rgba_stride;
        const uint8_t *p1 = p0 + rgba_stride;
        uint8_t *y0 = y ? y + (ptrdiff_t)row * y_stride : NULL;
        uint8_t *y1 = y ? y0 + y_stride : NULL;
        uint8_t *a0 = a ? a + (ptrdiff_t)row * a_stride : NULL;
        uint8_t *a1 = a ? a0 + a_stride : NULL;
        uint8_t *ur = u ? u + (ptrdiff_t)(row / 2) * u_stride : NULL;
        uint8_t *vr = v ? v + (ptrdiff_t)(row / 2) * v_stride : NULL;
        uint8_t *car = ca ? ca + (ptrdiff_t)(row / 2) * ca_stride : NULL;
        for (int col = 0; col < width; col += 2) {
            const uint8_t *q[4] = {p0 + col * 4, p0 + col * 4 + 4, p1 + col * 4, p1 + col * 4 + 4};
            int32_t rs = 0, gs = 0, bs = 0, as = 0, ws = 0;
            for (int k = 0; k < 4; k++) {
                int32_t r = q[k][0], g = q[k][1], b = q[k][2], al = q[k][3];
                uint8_t yy = clamp8(16 + ((YR * r + YG * g + YB * b + 32768) >> 16));
                if (y) {
                    if (k == 0) y0[col] = yy; else if (k == 1) y0[col + 1] = yy; else if (k == 2) y1[col] = yy; else y1[col + 1] = yy;
                }
                if (a) {
                    if (k == 0) a0[col] = (uint8_t)al; else if (k == 1) a0[col + 1] = (uint8_t)al; else if (k == 2) a1[col] = (uint8_t)al; else a1[col + 1] = (uint8_t)al;
                }
                /* Chroma of a 2x2 block is the alpha-weighted mean, so transparent pixels do not bleed colour. */
                int32_t w = al + 1;
                rs += r * w; gs += g * w; bs += b * w; ws += w; as += al;
            }
            int32_t r = (rs + ws / 2) / ws, g = (gs + ws / 2) / ws, b = (bs + ws / 2) / ws;
            if (u) ur[col / 2] = clamp8(128 + ((-UR * r - UG * g + UB * b + 32768) >> 16));
            if (v) vr[col / 2] = clamp8(128 + ((VR * r - VG * g - VB * b + 32768) >> 16));
            if (ca) car[col / 2] = (uint8_t)((as + 2) / 4);
        }
    }
}

void rk_yuv420_to_rgba(const uint8_t *y, ptrdiff_t y_stride, const uint8_t *u, ptrdiff_t u_stride,
                       const uint8_t *v, ptrdiff_t v_stride, int width, int height, uint8_t *rgba, ptrdiff_t rgba_stride) {
    /* Inverse BT.709 limited: R = 1.1644 (Y-16) + 1.7927 (Cr-128), G = 1.1644 (Y-16) - 0.2132 (Cb-128) - 0.5329 (Cr-128),
       B = 1.1644 (Y-16) + 2.1124 (Cb-128). */
    const int32_t cy = FIX(1.1644), crv = FIX(1.7927), cgu = FIX(0.2132), cgv = FIX(0.5329), cbu = FIX(2.1124);
    for (int row = 0; row < height; row++) {
        const uint8_t *yr = y + (ptrdiff_t)row * y_stride;
        const uint8_t *ur = u + (ptrdiff_t)(row / 2) * u_stride;
        const uint8_t *vr = v + (ptrdiff_t)(row / 2) * v_stride;
        uint8_t *out = rgba + (ptrdiff_t)row * rgba_stride;
        for (int col = 0; col < width; col++) {
            int32_t yy = cy * (yr[col] - 16), uu = ur[col / 2] - 128, vv = vr[col / 2] - 128;
            out[col * 4 + 0] = clamp8((yy + crv * vv + 32768) >> 16);
            out[col * 4 + 1] = clamp8((yy - cgu * uu - cgv * vv + 32768) >> 16);
            out[col * 4 + 2] = clamp8((yy + cbu * uu + 32768) >> 16);
            out[col * 4 + 3] = 255;
        }
    }
}

void rk_blend_rgba_over_color(const uint8_t *top, ptrdiff_t top_stride, int width, int height,
                              uint8_t bg_r, uint8_t bg_g, uint8_t bg_b, int opacity, int mode,
                              uint8_t *dst, ptrdiff_t dst_stride) {
    const int bg[3] = {bg_r, bg_g, bg_b};
    for (int row = 0; row < height; row++) {
        const uint8_t *s = top + (ptrdiff_t)row * top_stride;
        uint8_t *d = dst + (ptrdiff_t)row * dst_stride;
        for (int col = 0; col < width; col++) {
            int a = (s[col * 4 + 3] * opacity + 128) >> 8; /* 0..255 */
            for (int c = 0; c < 3; c++) {
                int b = bg[c], t = s[col * 4 + c], blended;
                switch (mode) {
                case 1: blended = 255 - ((255 - b) * (255 - t) + 127) / 255; break; /* screen */
                case 2: blended = b + t > 255 ? 255 : b + t; break;                 /* add */
                default: blended = t; break;                                         /* normal */
                }
                d[col * 4 + c] = (uint8_t)((blended * a + b * (255 - a) + 127) / 255);
            }
            d[col * 4 + 3] = 255;
        }
    }
}

/* ---- Ken Burns warp ----------------------------------------------------------------------------------------------
   Separable bilinear resampling in fixed point: h = r[ix] * (256 - wx) + r[ix + 1] * wx (exact in 16 bits), then
   out = (h0 * (256 - wy) + h1 * wy + 32768) >> 16. Every path below computes exactly these integers, so the SIMD
   paths give the same bytes as the scalar one. */

#if defined(__x86_64__) || defined(__i386__)
#define RK_WARP_X86 1
#include <immintrin.h>
#endif

int rk_warp_scratch_ints(int dst_w) {
    int blocks = (dst_w + 7) / 8;
    /* xi, xw; two 16-bit rows padded to whole blocks; per block: base, two shuffles (16 bytes each) and two
       weight vectors (8 x 16 bits each), plus slack for alignment. */
    return 2 * dst_w + blocks * 8 + blocks * (1 + 4 + 4 + 4 + 4) + 64;
}

typedef struct {
    const int32_t *xi, *xw;
    int blocks;
    const int32_t *base;           /* first source column of each block of 8 outputs; -1: the block is done in scalar */
    const uint8_t *left, *right;   /* pshufb masks giving r[ix] and r[ix + 1] as 16-bit lanes */
    const uint16_t *wl, *wr;       /* 256 - wx and wx */
} warp_columns;

/* Horizontal pass of one source row (scalar). A source one pixel wide has no right neighbour: it is replicated
   rather than read one byte past the row (every weight is 0 then, but the read itself was out of bounds). */
static void warp_row_h_scalar(const uint8_t *r, int src_w, const warp_columns *c, uint16_t *h, int from, int to) {
    if (src_w < 2) {
        for (int x = from; x < to; x++) h[x] = (uint16_t)(r[0] * 256);
        return;
    }
    for (int x = from; x < to; x++) {
        int ix = c->xi[x], wx = c->xw[x];
        h[x] = (uint16_t)(r[ix] * (256 - wx) + r[ix + 1] * wx);
    }
}

static void warp_row_h_generic(const uint8_t *r, int src_w, const warp_columns *c, uint16_t *h, int dst_w) {
    warp_row_h_scalar(r, src_w, c, h, 0, dst_w);
}

static void warp_row_v_generic(const uint16_t *h0, const uint16_t *h1, uint32_t w1, uint8_t *out, int from, int dst_w) {
    uint32_t w0 = 256u - w1;
    for (int x = from; x < dst_w; x++) out[x] = (uint8_t)((h0[x] * w0 + h1[x] * w1 + 32768u) >> 16);
}

#ifdef RK_WARP_X86
__attribute__((target("ssse3"))) static void warp_row_h_ssse3(const uint8_t *r, int src_w, const warp_columns *c, uint16_t *h, int dst_w) {
    for (int b = 0; b < c->blocks; b++) {
        int x = b * 8;
        if (c->base[b] < 0) {
            warp_row_h_scalar(r, src_w, c, h, x, x + 8 < dst_w ? x + 8 : dst_w);
            continue;
        }
        __m128i s = _mm_loadu_si128((const __m128i *)(r + c->base[b]));
        __m128i lo = _mm_shuffle_epi8(s, _mm_loadu_si128((const __m128i *)(c->left + 16 * b)));
        __m128i hi = _mm_shuffle_epi8(s, _mm_loadu_si128((const __m128i *)(c->right + 16 * b)));
        __m128i v = _mm_add_epi16(
            _mm_mullo_epi16(lo, _mm_loadu_si128((const __m128i *)(c->wl + 8 * b))),
            _mm_mullo_epi16(hi, _mm_loadu_si128((const __m128i *)(c->wr + 8 * b))));
        _mm_storeu_si128((__m128i *)(h + x), v);
    }
}

__attribute__((target("avx2"))) static void warp_row_h_avx2(const uint8_t *r, int src_w, const warp_columns *c, uint16_t *h, int dst_w) {
    int b = 0;
    for (; b + 1 < c->blocks; b += 2) {
        int x = b * 8;
        if (c->base[b] < 0 || c->base[b + 1] < 0) {
            warp_row_h_scalar(r, src_w, c, h, x, x + 16 < dst_w ? x + 16 : dst_w);
            continue;
        }
        __m256i s = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(r + c->base[b]))),
            _mm_loadu_si128((const __m128i *)(r + c->base[b + 1])), 1);
        __m256i lo = _mm256_shuffle_epi8(s, _mm256_loadu_si256((const __m256i *)(c->left + 16 * b)));
        __m256i hi = _mm256_shuffle_epi8(s, _mm256_loadu_si256((const __m256i *)(c->right + 16 * b)));
        __m256i v = _mm256_add_epi16(
            _mm256_mullo_epi16(lo, _mm256_loadu_si256((const __m256i *)(c->wl + 8 * b))),
            _mm256_mullo_epi16(hi, _mm256_loadu_si256((const __m256i *)(c->wr + 8 * b))));
        _mm256_storeu_si256((__m256i *)(h + x), v);
    }
    if (b < c->blocks) warp_row_h_scalar(r, src_w, c, h, b * 8, dst_w);
}

/* (h0 * w0 + h1 * w1 + 32768) >> 16 with pmaddwd: the rows biased by -32768 fit signed 16 bits, and the bias
   comes back as 32768 * 256 in the constant. */
static void warp_row_v_sse2(const uint16_t *h0, const uint16_t *h1, uint32_t w1, uint8_t *out, int dst_w) {
    const __m128i flip = _mm_set1_epi16((short)0x8000);
    const __m128i w = _mm_set1_epi32((int)(((uint32_t)w1 << 16) | (256u - w1)));
    const __m128i bias = _mm_set1_epi32(32768 * 256 + 32768);
    int x = 0;
    for (; x + 16 <= dst_w; x += 16) {
        __m128i p[2];
        for (int k = 0; k < 2; k++) {
            __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(h0 + x + 8 * k)), flip);
            __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(h1 + x + 8 * k)), flip);
            __m128i lo = _mm_srli_epi32(_mm_add_epi32(_mm_madd_epi16(_mm_unpacklo_epi16(a, b), w), bias), 16);
            __m128i hi = _mm_srli_epi32(_mm_add_epi32(_mm_madd_epi16(_mm_unpackhi_epi16(a, b), w), bias), 16);
            p[k] = _mm_packs_epi32(lo, hi);
        }
        _mm_storeu_si128((__m128i *)(out + x), _mm_packus_epi16(p[0], p[1]));
    }
    warp_row_v_generic(h0, h1, w1, out, x, dst_w);
}

__attribute__((target("avx2"))) static void warp_row_v_avx2(const uint16_t *h0, const uint16_t *h1, uint32_t w1, uint8_t *out, int dst_w) {
    const __m256i flip = _mm256_set1_epi16((short)0x8000);
    const __m256i w = _mm256_set1_epi32((int)(((uint32_t)w1 << 16) | (256u - w1)));
    const __m256i bias = _mm256_set1_epi32(32768 * 256 + 32768);
    int x = 0;
    for (; x + 32 <= dst_w; x += 32) {
        __m256i p[2];
        for (int k = 0; k < 2; k++) {
            __m256i a = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(h0 + x + 16 * k)), flip);
            __m256i b = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(h1 + x + 16 * k)), flip);
            __m256i lo = _mm256_srli_epi32(_mm256_add_epi32(_mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), w), bias), 16);
            __m256i hi = _mm256_srli_epi32(_mm256_add_epi32(_mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), w), bias), 16);
            p[k] = _mm256_packs_epi32(lo, hi); /* in-lane: the unpack's lane order undone, outputs 16k..16k+15 */
        }
        /* packus interleaves the lanes (0-7 of p0, 0-7 of p1 | 8-15 of p0, 8-15 of p1): put the quadwords back. */
        __m256i bytes = _mm256_permute4x64_epi64(_mm256_packus_epi16(p[0], p[1]), 0xD8);
        _mm256_storeu_si256((__m256i *)(out + x), bytes);
    }
    warp_row_v_sse2(h0 + x, h1 + x, w1, out + x, dst_w - x);
}

static int warp_level(void) {
    /* 2: AVX2, 1: SSSE3, 0: SSE2. */
    static int level = -1;
    int l = __atomic_load_n(&level, __ATOMIC_RELAXED);
    if (l < 0) {
        __builtin_cpu_init();
        l = __builtin_cpu_supports("avx2") ? 2 : (__builtin_cpu_supports("ssse3") ? 1 : 0);
        __atomic_store_n(&level, l, __ATOMIC_RELAXED);
    }
    return l;
}
#endif

void rk_warp_plane(const uint8_t *src, int src_w, int src_h, ptrdiff_t src_stride,
                   uint8_t *dst, int dst_w, int dst_h, ptrdiff_t dst_stride,
                   double x0, double y0, double sx, double sy, int32_t *scratch) {
    /* Separable: each needed source row is resampled horizontally once, then every output row is a vertical blend
       of two such rows. The column mapping is the same for every row because the transform is axis-aligned, so
       it is worked out once: per output column the source column and weight, and per block of 8 output columns
       the shuffles that gather them from 16 source bytes (when the block's sources fit in 16 bytes of the row). */
    if (dst_w <= 0 || dst_h <= 0) return;
    int blocks = (dst_w + 7) / 8;
    int32_t *xi = scratch, *xw = scratch + dst_w;
    uint16_t *rows[2] = {(uint16_t *)(scratch + 2 * dst_w), (uint16_t *)(scratch + 2 * dst_w) + blocks * 8};
    int32_t *base = scratch + 2 * dst_w + blocks * 8;
    /* 16-byte aligned tables after the bases. */
    uintptr_t t = ((uintptr_t)(base + blocks) + 15) & ~(uintptr_t)15;
    uint8_t *left = (uint8_t *)t, *right = left + 16 * blocks;
    uint16_t *wl = (uint16_t *)(right + 16 * blocks), *wr = wl + 8 * blocks;
    for (int x = 0; x < dst_w; x++) {
        double fx = x0 + (x + 0.5) * sx - 0.5;
        if (fx < 0) fx = 0;
        if (fx > src_w - 1) fx = src_w - 1;
        int ix = (int)fx;
        if (ix > src_w - 2) ix = src_w - 2 < 0 ? 0 : src_w - 2;
        int w = (int)lrint((fx - ix) * 256.0);
        if (src_w == 1) { ix = 0; w = 0; }
        xi[x] = ix;
        xw[x] = w;
    }
    for (int b = 0; b < blocks; b++) {
        int x = b * 8, first = xi[x];
        /* A block is gathered by shuffles when it is whole and its sources (and the 16 bytes loaded) lie in the row. */
        if (x + 8 > dst_w || src_w < 2 || xi[x + 7] + 1 - first > 15 || first + 16 > src_w) {
            base[b] = -1;
            continue;
        }
        base[b] = first;
        for (int k = 0; k < 8; k++) {
            left[16 * b + 2 * k] = (uint8_t)(xi[x + k] - first);
            left[16 * b + 2 * k + 1] = 0x80;
            right[16 * b + 2 * k] = (uint8_t)(xi[x + k] + 1 - first);
            right[16 * b + 2 * k + 1] = 0x80;
            wl[8 * b + k] = (uint16_t)(256 - xw[x + k]);
            wr[8 * b + k] = (uint16_t)xw[x + k];
        }
    }
    warp_columns cols = {xi, xw, blocks, base, left, right, wl, wr};
    void (*row_h)(const uint8_t *, int, const warp_columns *, uint16_t *, int) = warp_row_h_generic;
#ifdef RK_WARP_X86
    int level = warp_level();
    if (level == 2) row_h = warp_row_h_avx2; else if (level == 1) row_h = warp_row_h_ssse3;
#endif
    int have[2] = {-1, -1};
    for (int y = 0; y < dst_h; y++) {
        double fy = y0 + (y + 0.5) * sy - 0.5;
        if (fy < 0) fy = 0;
        if (fy > src_h - 1) fy = src_h - 1;
        int iy = (int)fy;
        if (iy > src_h - 2) iy = src_h - 2 < 0 ? 0 : src_h - 2;
        int wy = (int)lrint((fy - iy) * 256.0);
        if (src_h == 1) { iy = 0; wy = 0; }
        int iy1 = src_h == 1 ? iy : iy + 1;
        /* Slot 0 holds row iy, slot 1 row iy1; reuse what the previous output row computed. */
        if (have[0] != iy) {
            if (have[1] == iy) {
                uint16_t *s = rows[0]; rows[0] = rows[1]; rows[1] = s;
                have[0] = iy; have[1] = -1;
            } else {
                row_h(src + (ptrdiff_t)iy * src_stride, src_w, &cols, rows[0], dst_w);
                have[0] = iy;
            }
        }
        if (have[1] != iy1 && wy != 0) {
            row_h(src + (ptrdiff_t)iy1 * src_stride, src_w, &cols, rows[1], dst_w);
            have[1] = iy1;
        }
        /* wy == 0: row iy1 has no weight (and is not computed); any row will do for the multiply by zero. */
        const uint16_t *h0 = rows[0], *h1 = wy != 0 ? rows[1] : rows[0];
        uint8_t *out = dst + (ptrdiff_t)y * dst_stride;
#ifdef RK_WARP_X86
        if (level == 2) warp_row_v_avx2(h0, h1, (uint32_t)wy, out, dst_w);
        else warp_row_v_sse2(h0, h1, (uint32_t)wy, out, dst_w);
#else
        warp_row_v_generic(h0, h1, (uint32_t)wy, out, 0, dst_w);
#endif
    }
}

static void blend_premul_scalar(uint8_t *dst, const uint8_t *premul, const uint8_t *alpha, int from, int width) {
    for (int i = from; i < width; i++) {
        int a = alpha[i];
        if (a == 0) continue;
        if (a == 255) { dst[i] = premul[i]; continue; }
        dst[i] = (uint8_t)(premul[i] + (dst[i] * (255 - a) + 127) / 255);
    }
}

#ifdef RK_WARP_X86
/* 16 samples a step: x = dst * (255 - a) + 127 fits 16 bits, and x / 255 == (x + 1 + (x >> 8)) >> 8 over that
   range; the sum keeps its low byte like the scalar (uint8_t) cast; a == 0 keeps dst. */
__attribute__((target("avx2"))) static void blend_premul_avx2(uint8_t *dst, const uint8_t *premul, const uint8_t *alpha, int width) {
    const __m256i c255 = _mm256_set1_epi16(255), c127 = _mm256_set1_epi16(127), one = _mm256_set1_epi16(1);
    const __m256i low = _mm256_set1_epi16(0xFF);
    int i = 0;
    for (; i + 16 <= width; i += 16) {
        __m128i a8 = _mm_loadu_si128((const __m128i *)(alpha + i));
        int zero = _mm_movemask_epi8(_mm_cmpeq_epi8(a8, _mm_setzero_si128()));
        if (zero == 0xFFFF) continue;
        __m128i d8 = _mm_loadu_si128((const __m128i *)(dst + i));
        __m256i a = _mm256_cvtepu8_epi16(a8);
        __m256i d = _mm256_cvtepu8_epi16(d8);
        __m256i p = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(premul + i)));
        __m256i x = _mm256_add_epi16(_mm256_mullo_epi16(d, _mm256_sub_epi16(c255, a)), c127);
        __m256i q = _mm256_srli_epi16(_mm256_add_epi16(_mm256_add_epi16(x, one), _mm256_srli_epi16(x, 8)), 8);
        __m256i s = _mm256_and_si256(_mm256_add_epi16(p, q), low);
        __m128i r = _mm_packus_epi16(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        r = _mm_blendv_epi8(r, d8, _mm_cmpeq_epi8(a8, _mm_setzero_si128()));
        _mm_storeu_si128((__m128i *)(dst + i), r);
    }
    blend_premul_scalar(dst, premul, alpha, i, width);
}
#endif

void rk_blend_premul_row(uint8_t *dst, const uint8_t *premul, const uint8_t *alpha, int width) {
#ifdef RK_WARP_X86
    if (width >= 16 && warp_level() == 2) { blend_premul_avx2(dst, premul, alpha, width); return; }
#endif
    blend_premul_scalar(dst, premul, alpha, 0, width);
}

void rk_blend_straight_row(uint8_t *dst, const uint8_t *src, const uint8_t *alpha, int width) {
    for (int i = 0; i < width; i++) {
        int a = alpha[i];
        if (a == 0) continue;
        if (a == 255) { dst[i] = src[i]; continue; }
        dst[i] = (uint8_t)((src[i] * a + dst[i] * (255 - a) + 127) / 255);
    }
}

void rk_premultiply(uint8_t *values, const uint8_t *alpha, size_t count) {
    for (size_t i = 0; i < count; i++) values[i] = (uint8_t)((values[i] * alpha[i] + 127) / 255);
}

void rk_fill_plane(uint8_t *dst, ptrdiff_t stride, int width, int height, uint8_t value) {
    for (int y = 0; y < height; y++) memset(dst + (ptrdiff_t)y * stride, value, (size_t)width);
}

void rk_tune_allocator(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    mallopt(M_ARENA_MAX, 2);
#endif
}

void rk_release_free_memory(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

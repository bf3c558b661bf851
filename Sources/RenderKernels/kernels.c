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

/* Horizontal pass of one source row into 8.8 fixed point. A source one pixel wide has no right neighbour: it
   is replicated rather than read one byte past the row (every weight is 0 then, but the read itself was out of
   bounds). */
static void warp_row_h(const uint8_t *r, int src_w, const int32_t *xi, const int32_t *xw, uint16_t *h, int dst_w) {
    if (src_w < 2) {
        for (int x = 0; x < dst_w; x++) h[x] = (uint16_t)(r[0] * 256);
        return;
    }
    for (int x = 0; x < dst_w; x++) {
        int ix = xi[x], wx = xw[x];
        h[x] = (uint16_t)(r[ix] * (256 - wx) + r[ix + 1] * wx);
    }
}

void rk_warp_plane(const uint8_t *src, int src_w, int src_h, ptrdiff_t src_stride,
                   uint8_t *dst, int dst_w, int dst_h, ptrdiff_t dst_stride,
                   double x0, double y0, double sx, double sy, int32_t *scratch) {
    /* Separable: each needed source row is resampled horizontally once (a gather), then every output row is a
       vertical blend of two such rows (straight-line code the compiler vectorises). The column mapping is the
       same for every row because the transform is axis-aligned. scratch: 2 * dst_w ints for the column mapping
       plus 2 * dst_w 16-bit rows (i.e. at least 3 * dst_w ints). */
    int32_t *xi = scratch, *xw = scratch + dst_w;
    uint16_t *rows[2] = {(uint16_t *)(scratch + 2 * dst_w), (uint16_t *)(scratch + 2 * dst_w) + dst_w};
    int have[2] = {-1, -1};
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
                uint16_t *t = rows[0]; rows[0] = rows[1]; rows[1] = t;
                have[0] = iy; have[1] = -1;
            } else {
                warp_row_h(src + (ptrdiff_t)iy * src_stride, src_w, xi, xw, rows[0], dst_w);
                have[0] = iy;
            }
        }
        if (have[1] != iy1) {
            warp_row_h(src + (ptrdiff_t)iy1 * src_stride, src_w, xi, xw, rows[1], dst_w);
            have[1] = iy1;
        }
        const uint16_t *h0 = rows[0], *h1 = rows[1];
        uint8_t *out = dst + (ptrdiff_t)y * dst_stride;
        uint32_t w1 = (uint32_t)wy, w0 = 256u - w1;
        for (int x = 0; x < dst_w; x++) out[x] = (uint8_t)((h0[x] * w0 + h1[x] * w1 + 32768u) >> 16);
    }
}

void rk_blend_premul_row(uint8_t *dst, const uint8_t *premul, const uint8_t *alpha, int width) {
    for (int i = 0; i < width; i++) {
        int a = alpha[i];
        if (a == 0) continue;
        if (a == 255) { dst[i] = premul[i]; continue; }
        dst[i] = (uint8_t)(premul[i] + (dst[i] * (255 - a) + 127) / 255);
    }
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

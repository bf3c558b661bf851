#include "Raster.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline uint8_t clampu8(int v) { return (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v)); }

/* Signed distance from the point to the shape's edge (negative inside). */
static double shape_sdf(double px, double py, int w, int h, int shape, double radius) {
    double hx = w / 2.0, hy = h / 2.0;
    double x = px - hx, y = py - hy;
    if (shape == RK_SHAPE_ELLIPSE) {
        /* Approximate distance for an ellipse: scale to a unit circle and back by the local gradient length. */
        double nx = x / hx, ny = y / hy;
        double k = sqrt(nx * nx + ny * ny);
        if (k == 0) return -fmin(hx, hy);
        double gx = nx / hx, gy = ny / hy;
        double g = sqrt(gx * gx + gy * gy) / k;
        return (k - 1) / (g > 1e-9 ? g : 1e-9);
    }
    double r = shape == RK_SHAPE_ROUNDED ? fmin(radius, fmin(hx, hy)) : 0;
    double qx = fabs(x) - (hx - r), qy = fabs(y) - (hy - r);
    double ox = qx > 0 ? qx : 0, oy = qy > 0 ? qy : 0;
    double outside = sqrt(ox * ox + oy * oy);
    double inside = fmin(fmax(qx, qy), 0);
    return outside + inside - r;
}

void rk_shape_coverage(uint8_t *out, int w, int h, int shape, double radius, double stroke) {
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            double d = shape_sdf(x + 0.5, y + 0.5, w, h, shape, radius);
            double c = 0.5 - d;                     /* coverage of the filled shape */
            if (c < 0) c = 0; else if (c > 1) c = 1;
            if (stroke > 0) {
                double inner = 0.5 - (d + stroke);  /* coverage of the shape shrunk by the stroke */
                if (inner < 0) inner = 0; else if (inner > 1) inner = 1;
                c -= inner;
                if (c < 0) c = 0;
            }
            out[(size_t)y * w + x] = (uint8_t)lrint(c * 255.0);
        }
    }
}

void rk_gradient_rgba(uint8_t *rgba, int w, int h, int kind, double angle_deg, const uint8_t *colors,
                      const double *positions, int n) {
    double a = angle_deg * M_PI / 180.0;
    double dx = sin(a), dy = -cos(a);
    /* Project the box's corners onto the direction to normalise t to 0..1 across the box. */
    double hx = w / 2.0, hy = h / 2.0;
    double extent = fabs(dx) * hx + fabs(dy) * hy;
    double maxr = sqrt(hx * hx + hy * hy);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            double px = x + 0.5 - hx, py = y + 0.5 - hy;
            double t = kind == 0 ? (extent > 0 ? (px * dx + py * dy) / (2 * extent) + 0.5 : 0) : sqrt(px * px + py * py) / maxr;
            if (t < 0) t = 0; else if (t > 1) t = 1;
            int i = 0;
            while (i < n - 1 && t > positions[i + 1]) i++;
            const uint8_t *c0 = colors + 4 * i, *c1 = colors + 4 * (i + 1 < n ? i + 1 : i);
            double span = (i + 1 < n) ? positions[i + 1] - positions[i] : 1;
            double u = span > 0 ? (t - positions[i]) / span : 0;
            if (t <= positions[0]) { u = 0; c1 = c0; }
            if (u < 0) u = 0; else if (u > 1) u = 1;
            uint8_t *p = rgba + ((size_t)y * w + x) * 4;
            for (int k = 0; k < 4; k++) p[k] = (uint8_t)lrint(c0[k] + (c1[k] - c0[k]) * u);
        }
    }
}

void rk_multiply_mask(uint8_t *values, const uint8_t *mask, size_t count) {
    for (size_t i = 0; i < count; i++) values[i] = (uint8_t)((values[i] * mask[i] + 127) / 255);
}

void rk_box_blur(uint8_t *pixels, int w, int h, int channels, int radius, int passes) {
    if (radius <= 0 || w <= 0 || h <= 0) return;
    int n = w > h ? w : h;
    uint32_t *line = malloc(sizeof(uint32_t) * (size_t)n * channels);
    uint8_t *tmp = malloc((size_t)n * channels);
    if (!line || !tmp) { free(line); free(tmp); return; }
    int div = 2 * radius + 1;
    for (int pass = 0; pass < passes; pass++) {
        for (int dir = 0; dir < 2; dir++) {
            int len = dir == 0 ? w : h, count = dir == 0 ? h : w;
            ptrdiff_t step = dir == 0 ? channels : (ptrdiff_t)w * channels;
            ptrdiff_t lineStep = dir == 0 ? (ptrdiff_t)w * channels : channels;
            for (int l = 0; l < count; l++) {
                uint8_t *base = pixels + l * lineStep;
                for (int i = 0; i < len; i++) memcpy(tmp + (size_t)i * channels, base + i * step, channels);
                for (int c = 0; c < channels; c++) {
                    /* Running sum with edge clamping. */
                    uint32_t sum = 0;
                    for (int k = -radius; k <= radius; k++) {
                        int idx = k < 0 ? 0 : (k >= len ? len - 1 : k);
                        sum += tmp[(size_t)idx * channels + c];
                    }
                    for (int i = 0; i < len; i++) {
                        base[i * step + c] = (uint8_t)((sum + div / 2) / div);
                        int out = i - radius, in = i + radius + 1;
                        out = out < 0 ? 0 : out;
                        in = in >= len ? len - 1 : in;
                        sum += tmp[(size_t)in * channels + c];
                        sum -= tmp[(size_t)out * channels + c];
                    }
                }
            }
        }
    }
    free(line);
    free(tmp);
}

void rk_over_rgba(uint8_t *dst, const uint8_t *src, size_t pixel_count) {
    for (size_t i = 0; i < pixel_count; i++) {
        const uint8_t *s = src + i * 4;
        uint8_t *d = dst + i * 4;
        int sa = s[3];
        if (sa == 0) continue;
        if (sa == 255) { memcpy(d, s, 4); continue; }
        int da = d[3];
        int oa = sa + da * (255 - sa) / 255;
        if (oa == 0) continue;
        for (int k = 0; k < 3; k++) {
            int v = (s[k] * sa * 255 + d[k] * da * (255 - sa)) / (oa * 255);
            d[k] = clampu8(v);
        }
        d[3] = (uint8_t)oa;
    }
}

void rk_adjust_rgba(uint8_t *rgba, size_t pixel_count, double brightness, double contrast, double saturation) {
    int lut[256];
    for (int v = 0; v < 256; v++) lut[v] = (int)lrint(((v / 255.0 - 0.5) * contrast + 0.5 + brightness) * 255.0);
    int s = (int)lrint(saturation * 256);
    for (size_t i = 0; i < pixel_count; i++) {
        uint8_t *p = rgba + i * 4;
        int r = lut[p[0]], g = lut[p[1]], b = lut[p[2]];
        int l = (r * 54 + g * 183 + b * 19) >> 8;  /* BT.709 luma weights */
        p[0] = clampu8(l + (((r - l) * s) >> 8));
        p[1] = clampu8(l + (((g - l) * s) >> 8));
        p[2] = clampu8(l + (((b - l) * s) >> 8));
    }
}

void rk_blend_rgba_modes(const uint8_t *top, ptrdiff_t top_stride, const uint8_t *under, ptrdiff_t under_stride,
                         int w, int h, int opacity, int mode, uint8_t *dst, ptrdiff_t dst_stride) {
    for (int y = 0; y < h; y++) {
        const uint8_t *t = top + y * top_stride, *u = under + y * under_stride;
        uint8_t *d = dst + y * dst_stride;
        for (int x = 0; x < w; x++) {
            int a = t[4 * x + 3] * opacity / 256;
            for (int k = 0; k < 3; k++) {
                int b = u[4 * x + k], s = t[4 * x + k], m;
                if (mode == 1) m = 255 - (255 - b) * (255 - s) / 255;
                else if (mode == 2) m = b + s > 255 ? 255 : b + s;
                else m = s;
                d[4 * x + k] = (uint8_t)((m * a + b * (255 - a) + 127) / 255);
            }
            d[4 * x + 3] = 255;
        }
    }
}

void rk_affine_blend_plane(const uint8_t *src, const uint8_t *src_a, int sw, int sh, ptrdiff_t sstride,
                           uint8_t *dst, uint8_t *dst_a, ptrdiff_t dstride,
                           const double inv[6], int x0, int y0, int x1, int y1, int opacity) {
    for (int y = y0; y < y1; y++) {
        uint8_t *d = dst + (ptrdiff_t)y * dstride;
        uint8_t *da = dst_a ? dst_a + (ptrdiff_t)y * dstride : NULL;
        double cy = y + 0.5;
        double ux = inv[0] * (x0 + 0.5) + inv[1] * cy + inv[2];
        double uy = inv[3] * (x0 + 0.5) + inv[4] * cy + inv[5];
        for (int x = x0; x < x1; x++, ux += inv[0], uy += inv[3]) {
            double fx = ux - 0.5, fy = uy - 0.5;
            if (fx <= -1 || fy <= -1 || fx >= sw || fy >= sh) continue;
            int ix = (int)floor(fx), iy = (int)floor(fy);
            int wx = (int)((fx - ix) * 256), wy = (int)((fy - iy) * 256);
            int sv = 0, av = 0;
            for (int k = 0; k < 4; k++) {
                int sx = ix + (k & 1), sy = iy + (k >> 1);
                if (sx < 0 || sy < 0 || sx >= sw || sy >= sh) continue;
                int wgt = ((k & 1) ? wx : 256 - wx) * ((k >> 1) ? wy : 256 - wy);
                sv += src[(ptrdiff_t)sy * sstride + sx] * wgt;
                av += src_a[(ptrdiff_t)sy * sstride + sx] * wgt;
            }
            /* 16.16 weights -> 8 bit, then opacity. */
            sv = ((sv + 32768) >> 16) * opacity >> 8;
            av = ((av + 32768) >> 16) * opacity >> 8;
            if (av <= 0 && sv <= 0) continue;
            if (av > 255) av = 255;
            d[x] = clampu8(sv + (d[x] * (255 - av) + 127) / 255);
            if (da) da[x] = clampu8(av + (da[x] * (255 - av) + 127) / 255);
        }
    }
}

void rk_mix_row(uint8_t *dst, const uint8_t *src, int count, int weight) {
    for (int i = 0; i < count; i++) dst[i] = (uint8_t)(dst[i] + (((src[i] - dst[i]) * weight) >> 8));
}

void rk_blend_premul_row_opacity(uint8_t *dst, const uint8_t *premul, const uint8_t *alpha, int width, int opacity) {
    for (int i = 0; i < width; i++) {
        int a = alpha[i] * opacity >> 8;
        if (a == 0) continue;
        int s = premul[i] * opacity >> 8;
        dst[i] = clampu8(s + (dst[i] * (255 - a) + 127) / 255);
    }
}

#ifndef RENDC_RENDER_KERNELS_H
#define RENDC_RENDER_KERNELS_H
/*
 * Per-pixel kernels for rendc's compositor. Plain C, compiled with -O3 in every configuration.
 * Colour: BT.709, limited ("TV") range YUV 4:2:0, the same end to end so that no conversion runs per frame.
 * Alpha: straight in RGBA inputs; premultiplied in the prepared YUVA layers.
 */
#include <stdint.h>
#include <stddef.h>

/* RGBA (straight alpha) -> planar YUV 4:2:0 (BT.709 limited) plus an optional alpha plane at luma size and
   a chroma-size alpha plane (mean of each 2x2 block). Width and height must be even. Any output may be NULL. */
void rk_rgba_to_yuva420(const uint8_t *rgba, int width, int height, ptrdiff_t rgba_stride,
                        uint8_t *y, ptrdiff_t y_stride, uint8_t *u, ptrdiff_t u_stride, uint8_t *v, ptrdiff_t v_stride,
                        uint8_t *a, ptrdiff_t a_stride, uint8_t *ca, ptrdiff_t ca_stride);

/* Planar YUV 4:2:0 limited -> RGBA (alpha 255). Width and height must be even. */
void rk_yuv420_to_rgba(const uint8_t *y, ptrdiff_t y_stride, const uint8_t *u, ptrdiff_t u_stride,
                       const uint8_t *v, ptrdiff_t v_stride, int width, int height, uint8_t *rgba, ptrdiff_t rgba_stride);

/* Composites `top` (RGBA, straight) over an opaque RGB colour background, in place on `top`'s copy `dst`
   (RGBA, alpha set to 255), scaled by `opacity` (0..256), using blend mode 0 normal, 1 screen, 2 add. */
void rk_blend_rgba_over_color(const uint8_t *top, ptrdiff_t top_stride, int width, int height,
                              uint8_t bg_r, uint8_t bg_g, uint8_t bg_b, int opacity, int mode,
                              uint8_t *dst, ptrdiff_t dst_stride);

/* Bilinear, axis-aligned resampling of one plane: dst(x, y) = src(x0 + x * sx, y0 + y * sy), with sample centres
   at +0.5 and source coordinates clamped to the plane. Fixed point (1/256 pixel weights). On x86-64 the rows are
   gathered with byte shuffles (SSSE3/AVX2, chosen at run time) and blended with pmaddwd; every path computes the
   same integers, so the output does not depend on the CPU. */
void rk_warp_plane(const uint8_t *src, int src_w, int src_h, ptrdiff_t src_stride,
                   uint8_t *dst, int dst_w, int dst_h, ptrdiff_t dst_stride,
                   double x0, double y0, double sx, double sy, int32_t *scratch /* rk_warp_scratch_ints(dst_w) */);

/* Size of rk_warp_plane's scratch, in int32s, for an output `dst_w` wide. */
int rk_warp_scratch_ints(int dst_w);

/* dst = premul + dst * (255 - alpha) / 255 over `width` samples: blends one row of a premultiplied layer. */
void rk_blend_premul_row(uint8_t *dst, const uint8_t *premul, const uint8_t *alpha, int width);

/* dst = src * a + dst * (1 - a) with straight alpha, one row. */
void rk_blend_straight_row(uint8_t *dst, const uint8_t *src, const uint8_t *alpha, int width);

/* Premultiplies `values` by `alpha` (rounded), in place, over `count` samples. */
void rk_premultiply(uint8_t *values, const uint8_t *alpha, size_t count);

/* Fills a plane with one value. */
void rk_fill_plane(uint8_t *dst, ptrdiff_t stride, int width, int height, uint8_t value);

/* BT.709 limited-range YUV of an sRGB colour. */
void rk_rgb_to_yuv(uint8_t r, uint8_t g, uint8_t b, uint8_t *y, uint8_t *u, uint8_t *v);

/* glibc: mmap blocks of 1 MiB and more (returned to the system on free) and cap malloc arenas at 2. */
void rk_tune_allocator(void);

/* glibc: returns the whole free pages inside the malloc arenas to the system (malloc_trim(0)). Memory freed in
   blocks under the mmap threshold otherwise stays resident until reused: about 28 MB in a cold render, where a
   picture's decoding, the overlay loop's blending and the loudness passes free theirs beside libx264. */
void rk_release_free_memory(void);

#include "Raster.h"

#endif

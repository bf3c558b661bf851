#ifndef RENDC_RASTER_H
#define RENDC_RASTER_H
/*
 * Kernels for templates v2: drawing generated art once (shapes, gradients, blur) and, per frame, blending
 * transformed sprites and mixing transition buffers. Premultiplied YUVA 4:2:0 as in RenderKernels.h.
 */
#include <stdint.h>
#include <stddef.h>

/* Shapes for rk_shape_coverage. */
enum { RK_SHAPE_RECT = 0, RK_SHAPE_ROUNDED = 1, RK_SHAPE_ELLIPSE = 2 };

/* Anti-aliased coverage (0..255) of a shape filling a w x h box, into `out` (stride w). With stroke > 0 only a
   ring `stroke` pixels wide inside the edge is covered. `radius` is the corner radius of RK_SHAPE_ROUNDED. */
void rk_shape_coverage(uint8_t *out, int w, int h, int shape, double radius, double stroke);

/* Fills a w x h RGBA image (straight alpha) with a gradient. kind 0 linear along `angle_deg` (0 up, 90 right,
   180 down), 1 radial from the centre. `colors` holds n RGBA quadruples, `positions` n values in 0..1 (sorted). */
void rk_gradient_rgba(uint8_t *rgba, int w, int h, int kind, double angle_deg, const uint8_t *colors,
                      const double *positions, int n);

/* Multiplies `values` by `mask` / 255 over count samples (e.g. an alpha plane by a shape's coverage). */
void rk_multiply_mask(uint8_t *values, const uint8_t *mask, size_t count);

/* Box blur of `channels` interleaved channels in place, `passes` times (3 approximates a Gaussian). */
void rk_box_blur(uint8_t *pixels, int w, int h, int channels, int radius, int passes);

/* Straight-alpha RGBA `src` composited over straight-alpha RGBA `dst` (same size, "over"). */
void rk_over_rgba(uint8_t *dst, const uint8_t *src, size_t pixel_count);

/* Brightness (-1..1, added), contrast and saturation (0..3, multiplied) of straight RGBA, in place. */
void rk_adjust_rgba(uint8_t *rgba, size_t pixel_count, double brightness, double contrast, double saturation);

/* Opaque RGB `under` (RGBA, alpha ignored) with straight RGBA `top` blended on it by `mode` (0 normal,
   1 screen, 2 add) at `opacity` (0..256), into `dst` (alpha 255). All w x h with their own strides. */
void rk_blend_rgba_modes(const uint8_t *top, ptrdiff_t top_stride, const uint8_t *under, ptrdiff_t under_stride,
                         int w, int h, int opacity, int mode, uint8_t *dst, ptrdiff_t dst_stride);

/* Blends a premultiplied plane `src` with alpha `src_a` (same size sw x sh, stride sstride) onto `dst` through the
   inverse affine map: the source point of destination pixel centre (x + .5, y + .5) is
   (inv[0] x' + inv[1] y' + inv[2], inv[3] x' + inv[4] y' + inv[5]). Bilinear, transparent outside the source.
   Only destination pixels in [x0, x1) x [y0, y1) are touched. `opacity` 0..256. When dst_a is not NULL the
   destination alpha is updated too ("over" onto a premultiplied destination). */
void rk_affine_blend_plane(const uint8_t *src, const uint8_t *src_a, int sw, int sh, ptrdiff_t sstride,
                           uint8_t *dst, uint8_t *dst_a, ptrdiff_t dstride,
                           const double inv[6], int x0, int y0, int x1, int y1, int opacity);

/* dst = dst + (src - dst) * weight / 256 over `count` samples (crossfades). */
void rk_mix_row(uint8_t *dst, const uint8_t *src, int count, int weight);

/* Blends premultiplied `src` with alpha `alpha` onto dst scaled by `opacity` (0..256), one row. */
void rk_blend_premul_row_opacity(uint8_t *dst, const uint8_t *premul, const uint8_t *alpha, int width, int opacity);

#endif

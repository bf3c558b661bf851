#ifndef RENDC_CTEXTSHAPING_SHIM_H
#define RENDC_CTEXTSHAPING_SHIM_H
#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_STROKER_H
#include FT_GLYPH_H
#include FT_BITMAP_H
#include FT_TRUETYPE_TABLES_H
#include <hb.h>
#include <hb-ft.h>

/// FreeType's glyph records are C "subclasses"; Swift cannot cast between them, these helpers do.
static inline FT_BitmapGlyph rendc_ft_bitmap_glyph(FT_Glyph glyph) {
    return (FT_BitmapGlyph)glyph;
}

/// FT_HAS_COLOR / FT_IS_SCALABLE are function-like macros that Swift does not import.
static inline int rendc_ft_has_color(FT_Face face) {
    return FT_HAS_COLOR(face) ? 1 : 0;
}

static inline int rendc_ft_is_scalable(FT_Face face) {
    return FT_IS_SCALABLE(face) ? 1 : 0;
}
#endif

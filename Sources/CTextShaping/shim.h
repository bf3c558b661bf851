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
#endif

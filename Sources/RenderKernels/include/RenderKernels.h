#ifndef RENDC_RENDER_KERNELS_H
#define RENDC_RENDER_KERNELS_H
#include <stdint.h>
#include <stddef.h>
#endif

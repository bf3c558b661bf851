#include "RenderKernels.h"

#ifndef CBROTLIENC_SHIM_H
#define CBROTLIENC_SHIM_H

#include <brotli/encode.h>

#endif

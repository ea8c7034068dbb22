#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H

// Makes `next_in` a pointer to const, so Swift can hand zlib read-only input without casting it.
#define ZLIB_CONST
#include <zlib.h>

// `inflateInit2` and `deflateInit2` are macros that pass the library version and the struct size;
// Swift cannot call macros, so these wrap them.
static inline int czlib_inflate_init2(z_stream *stream, int window_bits) {
    return inflateInit2(stream, window_bits);
}

// Used by the tests to build fixtures; the decoder itself never compresses.
static inline int czlib_deflate_init2(z_stream *stream, int level, int window_bits) {
    return deflateInit2(stream, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
}

#endif

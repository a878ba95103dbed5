/* Fuzz entry point for relay/wire/codec.c: every payload inspection on the input
 * (VP8 and VP9 descriptors, rewriting VP8 picture ids, keyframe detection for each codec, codec
 * names). */
#include <stdlib.h>
#include <string.h>

#include "wire/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = calloc(size ? size : 1, 1); /* exact size: overreads are caught */
    if (size)
        memcpy(buf, data, size);
    struct vp8_desc d8;
    struct vp9_desc d9;
    int r8 = vp8_parse(buf, size, &d8);
    if (r8 == 0 && (d8.desc_len == 0 || d8.desc_len >= size))
        abort();
    if (vp9_parse(buf, size, &d9) == 0 && (d9.desc_len == 0 || d9.desc_len >= size))
        abort();
    /* renumbering a parsed descriptor succeeds and reads back */
    if (r8 == 0 && vp8_write_ids(buf, size, 0x1234, 0x56) != 0)
        abort();
    uint16_t want = d8.picture_id_bits == 7 ? 0x34 : 0x1234;
    if (r8 == 0 &&
        (vp8_parse(buf, size, &d8) != 0 || (d8.has_picture_id && d8.picture_id != want) ||
         (d8.has_tl0picidx && d8.tl0picidx != 0x56)))
        abort();
    vp8_write_ids(buf, size, 1, 2); /* and on anything else, stays in bounds */
    for (int c = CODEC_UNKNOWN; c <= CODEC_ULPFEC; c++)
        codec_is_keyframe_start((enum codec_id)c, buf, size);
    enum codec_id id = codec_from_name((const char *)buf, size);
    if (id != CODEC_UNKNOWN && strlen(codec_name(id)) != size)
        abort();
    free(buf);
    return 0;
}

/* package_hls: hlssink2 writes a playlist fit for live (no PLAYLIST-TYPE, a target
 * duration it did not check against the segments, an ENDLIST only on a clean EOS); a
 * recording wants a VOD list. This file re-reads the EXTINF/URI pairs hlssink2 wrote,
 * sizes each segment on disk, and writes the list again (RFC 8216 §4.3), then the master
 * playlist. Segments themselves are left as they are. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "package_hls.h"

struct seg_entry {
    double dur;
    char *uri;
};

/* EXTINF/URI pairs of the playlist text. */
static GArray *parse_playlist(const char *text)
{
    GArray *a = g_array_new(FALSE, TRUE, sizeof(struct seg_entry));
    char **lines = g_strsplit(text, "\n", -1);
    double dur = -1;

    for (int i = 0; lines[i]; i++) {
        char *l = g_strstrip(lines[i]);
        if (g_str_has_prefix(l, "#EXTINF:"))
            dur = g_ascii_strtod(l + 8, NULL);
        else if (l[0] && l[0] != '#' && dur >= 0) {
            struct seg_entry e = {dur, g_strdup(l)};
            g_array_append_val(a, e);
            dur = -1;
        }
    }
    g_strfreev(lines);
    return a;
}

int pkg_hls_finish(const char *dir, struct pkg_rendition *r)
{
    char *rdir = g_build_filename(dir, r->name, NULL);
    char *path = g_build_filename(rdir, "index.m3u8", NULL);
    char *text = NULL;
    GArray *segs;
    GString *out = g_string_new("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n");
    double max_dur = 1, total_dur = 0;
    int64_t total_bytes = 0;
    int rc = -1;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        fprintf(stderr, "package: %s missing\n", path);
        goto done;
    }
    segs = parse_playlist(text);
    r->peak_bps = 0;
    for (guint i = 0; i < segs->len; i++) {
        struct seg_entry *e = &g_array_index(segs, struct seg_entry, i);
        char *seg = g_build_filename(rdir, e->uri, NULL);
        struct stat st;
        int64_t size = stat(seg, &st) == 0 ? (int64_t)st.st_size : 0;
        if (e->dur > max_dur)
            max_dur = e->dur;
        if (e->dur > 0.5 && (int64_t)(size * 8 / e->dur) > r->peak_bps)
            r->peak_bps = (int64_t)(size * 8 / e->dur);
        total_dur += e->dur;
        total_bytes += size;
        g_free(seg);
    }
    g_string_append_printf(out, "#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n",
                           (int)ceil(max_dur));
    for (guint i = 0; i < segs->len; i++) {
        struct seg_entry *e = &g_array_index(segs, struct seg_entry, i);
        g_string_append_printf(out, "#EXTINF:%.3f,\n%s\n", e->dur, e->uri);
        g_free(e->uri);
    }
    g_string_append(out, "#EXT-X-ENDLIST\n");
    g_array_free(segs, TRUE);
    r->average_bps = total_dur > 0 ? (int64_t)(total_bytes * 8 / total_dur) : 0;
    if (r->peak_bps < r->average_bps)
        r->peak_bps = r->average_bps;
    rc = g_file_set_contents(path, out->str, (gssize)out->len, NULL) ? 0 : -1;
done:
    g_string_free(out, TRUE);
    g_free(text);
    g_free(path);
    g_free(rdir);
    return rc;
}

int pkg_hls_master(const char *dir, const struct pkg_rendition *r, int n)
{
    GString *out = g_string_new("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    char *path = g_build_filename(dir, "master.m3u8", NULL);
    int rc;

    for (int i = 0; i < n; i++) {
        g_string_append_printf(out, "#EXT-X-STREAM-INF:BANDWIDTH=%lld,AVERAGE-BANDWIDTH=%lld",
                               (long long)r[i].peak_bps, (long long)r[i].average_bps);
        if (r[i].width > 0)
            g_string_append_printf(out, ",RESOLUTION=%dx%d", r[i].width, r[i].height);
        g_string_append_printf(out, ",CODECS=\"%s\"\n%s/index.m3u8\n", r[i].codecs, r[i].name);
    }
    rc = g_file_set_contents(path, out->str, (gssize)out->len, NULL) ? 0 : -1;
    g_string_free(out, TRUE);
    g_free(path);
    return rc;
}

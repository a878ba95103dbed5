/* Tests signaling/transport/m3u8.c, the playlist rewriting of replay links: a master
 * playlist's variant URIs and EXT-X-MEDIA / EXT-X-I-FRAME-STREAM-INF URI attributes, a media
 * playlist's segments and EXT-X-MAP, URIs with a query or a fragment, CRLF and blanks kept;
 * and hostile lines left as they are: absolute URLs (http:, data:, "//host"), a URI= inside a
 * quoted value or an EXTINF title, an unterminated quote, NUL bytes, a missing last newline,
 * empty text, a 1 MB line. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "transport/m3u8.h"

#define P "grant=9.abc"

static char *rw(const char *in, size_t *len)
{
    size_t n;
    char *out = m3u8_add_param(in, strlen(in), P, &n);
    CHECK(out != NULL && strlen(out) == n);
    if (len)
        *len = n;
    return out;
}

static void expect(const char *in, const char *want)
{
    char *out = rw(in, NULL);
    if (strcmp(out, want) != 0)
        fprintf(stderr, "in:   %s\nwant: %s\ngot:  %s\n", in, want, out);
    CHECK_STR(out, want);
    free(out);
}

static void test_master(void)
{
    expect(
        "#EXTM3U\n"
        "#EXT-X-VERSION:4\n"
        "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x, y\",URI=\"audio/index.m3u8\"\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=1500000,RESOLUTION=1280x720,CODECS=\"avc1.4d401f,mp4a.40.2\"\n"
        "hi/index.m3u8\n"
        "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=9000,URI=\"lo/iframes.m3u8\"\n"
        "lo/index.m3u8?v=2\n",
        "#EXTM3U\n"
        "#EXT-X-VERSION:4\n"
        "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x, y\",URI=\"audio/index.m3u8?" P "\"\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=1500000,RESOLUTION=1280x720,CODECS=\"avc1.4d401f,mp4a.40.2\"\n"
        "hi/index.m3u8?" P "\n"
        "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=9000,URI=\"lo/iframes.m3u8?" P "\"\n"
        "lo/index.m3u8?v=2&" P "\n");
}

static void test_media(void)
{
    expect(
        "#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n#EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"720@0\"\r\n"
        "#EXTINF:4.000,\r\n  seg-00001.ts  \r\n\r\n#EXTINF:4.000,\r\nseg-00002.ts#t=1\r\n"
        "# a comment: not-a-uri\r\n#EXT-X-ENDLIST\r\n",
        "#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n#EXT-X-MAP:URI=\"init.mp4?" P
        "\",BYTERANGE=\"720@0\"\r\n"
        "#EXTINF:4.000,\r\n  seg-00001.ts?" P "  \r\n\r\n#EXTINF:4.000,\r\nseg-00002.ts?" P
        "#t=1\r\n"
        "# a comment: not-a-uri\r\n#EXT-X-ENDLIST\r\n");
    /* no newline at the end; an absolute path on this server is relative too */
    expect("/recordings/x/hi/seg.ts", "/recordings/x/hi/seg.ts?" P);
}

static void test_hostile(void)
{
    /* other places never get our grant */
    expect("http://evil.example/seg.ts\nHTTPS://x/y\n//evil.example/seg.ts\nskd://key\n",
           "http://evil.example/seg.ts\nHTTPS://x/y\n//evil.example/seg.ts\nskd://key\n");
    expect("#EXT-X-KEY:METHOD=AES-128,URI=\"data:text/plain;base64,AAAA\"\n"
           "#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys.example/k\"\n",
           "#EXT-X-KEY:METHOD=AES-128,URI=\"data:text/plain;base64,AAAA\"\n"
           "#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys.example/k\"\n");
    /* URI= that is not the attribute URI */
    expect("#EXT-X-SESSION-DATA:DATA-ID=\"a\",VALUE=\"URI=\\\"x\",X-URI=\"y.m3u8\"\n"
           "#EXTINF:4,URI=\"title.ts\"\n",
           "#EXT-X-SESSION-DATA:DATA-ID=\"a\",VALUE=\"URI=\\\"x\",X-URI=\"y.m3u8\"\n"
           "#EXTINF:4,URI=\"title.ts\"\n");
    /* broken attribute lists and odd URIs stay as they were */
    expect("#EXT-X-MAP:URI=\"init.mp4\n#EXT-X-MAP:URI=init.mp4\n#EXT-X-MAP:URI=\"\"\n#EXT-X-MAP\n"
           "#EXT-X-MAP:,,=,URI\n",
           "#EXT-X-MAP:URI=\"init.mp4\n#EXT-X-MAP:URI=init.mp4\n#EXT-X-MAP:URI=\"\"\n#EXT-X-MAP\n"
           "#EXT-X-MAP:,,=,URI\n");
    expect("", "");
    expect("\n\n \t\n", "\n\n \t\n");
    expect("a:b/c.ts\n1a:b.ts\n", "a:b/c.ts\n1a:b.ts?" P "\n");
    /* NUL bytes: the line is copied, length kept */
    const char in[] = "seg\0.ts\nseg.ts\n";
    size_t n;
    char *out = m3u8_add_param(in, sizeof in - 1, P, &n);
    CHECK_EQ(n, sizeof in - 1 + strlen("?" P));
    CHECK(memcmp(out, "seg\0.ts\nseg.ts?" P "\n", n) == 0);
    free(out);
    /* a 1 MB URI line */
    size_t big = 1 << 20;
    char *line = malloc(big + 1);
    memset(line, 'a', big);
    line[big] = '\0';
    out = rw(line, &n);
    CHECK_EQ(n, big + strlen("?" P));
    CHECK(strcmp(out + big, "?" P) == 0);
    free(out);
    free(line);
}

int main(void)
{
    test_master();
    test_media();
    test_hostile();
    return test_report();
}

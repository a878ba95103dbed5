/* classrelay-recorder: the lesson recorder process (docs/recording.md). Three modes:
 * "record" (started and watched by classrelay serve; commands on stdin, events on stdout),
 * "package" (turns a finished recording folder into HLS and MP4) and "ingest" (an RTSP
 * camera published to the relay as a lesson's teacher; started by classrelay serve). */
#include <stdio.h>
#include <string.h>

#include <gst/gst.h>

#include "ingest.h"
#include "package.h"
#include "record.h"

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s record               (commands on stdin, events on stdout)\n"
            "       %s package --in DIR [--out DIR]\n"
            "       %s ingest               (an RTSP camera to the relay; commands on stdin)\n",
            prog, prog, prog);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(argv[0]);
        return 2;
    }
    gst_init(NULL, NULL);
    if (strcmp(argv[1], "record") == 0)
        return record_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "ingest") == 0)
        return ingest_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "package") == 0)
        return package_main(argc - 1, argv + 1);
    usage(argv[0]);
    return 2;
}

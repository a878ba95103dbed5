/* "classrelay-recorder ingest": an RTSP camera published to the relay (ingest.c). */
#ifndef CR_RECORDER_INGEST_H
#define CR_RECORDER_INGEST_H

/* argv[0] is "ingest". Returns the process exit status. */
int ingest_main(int argc, char **argv);

#endif

/* "classrelay-recorder record": see docs/recording.md for the protocol. */
#ifndef CR_RECORDER_RECORD_H
#define CR_RECORDER_RECORD_H

/* argv[0] is "record". Returns the process exit status. */
int record_main(int argc, char **argv);

#endif

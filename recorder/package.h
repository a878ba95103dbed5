/* "classrelay-recorder package": see docs/recording.md for inputs and outputs. */
#ifndef CR_RECORDER_PACKAGE_H
#define CR_RECORDER_PACKAGE_H

/* argv[0] is "package". Returns the process exit status. */
int package_main(int argc, char **argv);

#endif

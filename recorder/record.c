/* Placeholder until the record mode lands. */
#include <stdio.h>

#include "record.h"

int record_main(int argc, char **argv)
{
    fprintf(stderr, "record: not built yet\n");
    return 1;
}

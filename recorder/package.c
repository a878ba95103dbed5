/* Placeholder until the package mode lands. */
#include <stdio.h>

#include "package.h"

int package_main(int argc, char **argv)
{
    fprintf(stderr, "package: not built yet\n");
    return 1;
}

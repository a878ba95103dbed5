/* `classrelay token`: print a signed access token (docs/scheduling.md, "Tokens"). */
#ifndef CR_SIGNALING_TOKEN_CMD_H
#define CR_SIGNALING_TOKEN_CMD_H

/* argv holds the arguments after "token". Prints the token and a newline on stdout and
 * returns 0; 2 on a bad argument, 1 if the key cannot be read or made (reasons on stderr). */
int token_cmd(int argc, char **argv);

#endif

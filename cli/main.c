/* sluice: the entry point. `sluice` alone opens the console (later); `sluice
 * [--batch] COMMAND` is the batch face. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config.h"

int main(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("sluice %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	fprintf(stderr, "usage: sluice [--batch] COMMAND\n");
	return EXIT_USAGE;
}

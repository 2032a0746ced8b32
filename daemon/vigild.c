/* vigild: the supervisor daemon. For now it prints its version. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "vigil/vigil.h"

int
main(int argc, char *argv[])
{
	if (argc > 1 && strcmp(argv[1], "-V") == 0) {
		printf("vigild %s (libvigil %s, signal source %s)\n",
		    PACKAGE_VERSION, vigil_version(), vigil_sigsrc_backend());
		return 0;
	}
	fprintf(stderr, "usage: vigild -V\n");
	return 1;
}

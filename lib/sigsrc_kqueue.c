/* Stub: kqueue backend. */
#include "config.h"
#include <errno.h>
#include <stddef.h>
#include "internal.h"

/* Stub: replaced by the signal source implementation. */
#include "config.h"
#include "internal.h"

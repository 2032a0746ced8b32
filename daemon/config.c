/* Stub: replaced by the configuration parser. */
#include "config.h"
